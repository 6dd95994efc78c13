# Sourced (from the checkout's root) by scripts/serve.sh, scripts/test.sh and .ci/run.
# `venv_ready [EXTRA]` makes .venv in the checkout once, installs rjbot into it in editable
# mode (with the EXTRA dependencies, e.g. dev) only when pyproject.toml or setup.py changed
# since the last install, and puts .venv/bin first on PATH. Nothing is installed outside the
# checkout: Debian's python3 refuses pip system-wide (PEP 668), and there may be no `python`.

VENV=.venv

_venv_python() {  # the first Python 3.11+ on PATH
  local candidate
  for candidate in ${RJBOT_PYTHON:-} python3 python python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

_venv_create() {
  local python version
  if ! python=$(_venv_python); then
    echo "rjbot: needs Python 3.11 or newer on PATH as python3 (none found)" >&2
    return 1
  fi
  version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    echo "rjbot: $python (Python $version) cannot make a virtual environment: ensurepip is" \
      "missing. On Debian or Ubuntu install it, as root: apt-get install python$version-venv" >&2
    return 1
  fi
  echo "rjbot: creating a virtual environment in $VENV (Python $version, $python)"
  rm -rf "$VENV"
  "$python" -m venv "$VENV"
}

_venv_hash() {  # what the install depends on: the project's metadata and its build step
  "$VENV/bin/python" - <<'PY'
import hashlib
from pathlib import Path

digest = hashlib.sha256()
for name in ("pyproject.toml", "setup.py"):
    if Path(name).exists():
        digest.update(name.encode() + b"\0" + Path(name).read_bytes())
print(digest.hexdigest())
PY
}

venv_ready() {
  local extra="${1:-}" spec="." stamp hash
  stamp="$VENV/.rjbot-installed${extra:+-$extra}"
  [ -z "$extra" ] || spec=".[$extra]"
  # a missing .venv, or one whose Python went away (an upgrade) or lost pip: make it anew
  "$VENV/bin/python" -c 'import pip' >/dev/null 2>&1 || _venv_create || exit 1
  hash=$(_venv_hash)
  if [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
    echo "rjbot: using $VENV (rjbot${extra:+ and its $extra tools} installed, pyproject.toml unchanged)"
  else
    echo "rjbot: installing rjbot${extra:+ and its $extra tools} into $VENV" \
      "(pip install -e '$spec'; a few minutes the first time)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec"
    echo "$hash" >"$stamp"
    [ -z "$extra" ] || echo "$hash" >"$VENV/.rjbot-installed"  # the extras include the rest
  fi
  export VIRTUAL_ENV="$PWD/$VENV"
  export PATH="$VIRTUAL_ENV/bin:$PATH"
}
