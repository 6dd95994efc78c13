#!/usr/bin/env bash
# Set up and run the whole test suite: a virtual environment in .venv (made once, reinstalled
# only when pyproject.toml changes) with rjbot and its test tools, the translation catalogs,
# axe-core from npm for the browser tests, then pytest. Extra arguments go to pytest (e.g. -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
venv_ready dev
scripts/i18n.sh compile --quiet
# axe-core for the browser tests (package.json, pinned in package-lock.json) into node_modules,
# again only when the lock file changed; without npm the browser tests skip and say why
if command -v npm >/dev/null 2>&1; then
  if [ ! -f node_modules/axe-core/axe.min.js ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "rjbot: npm ci (axe-core for the browser tests)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
else
  echo "rjbot: npm not found: the browser tests skip (apt-get install npm)" >&2
fi
exec "$VENV/bin/python" -m pytest -q "$@"
