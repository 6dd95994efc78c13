#!/usr/bin/env bash
# Catalog chores. `extract` refreshes messages.pot and merges it into every catalog;
# `compile [--quiet]` builds the .mo files (build output, not committed); `check` fails on
# any fuzzy or untranslated entry in a shipped catalog and runs GNU msgfmt -c on each.
set -euo pipefail
cd "$(dirname "$0")/.."
KEYWORDS=(-k N_ -k N_plural:1,2)
case "${1:-}" in
  extract)
    pybabel extract -F babel.cfg "${KEYWORDS[@]}" --no-location --sort-output \
      --add-comments=Translators: --project=rjbot --copyright-holder="rjbot" \
      -o locales/messages.pot bot
    [ -f locales/en_GB/LC_MESSAGES/messages.po ] || \
      pybabel init -i locales/messages.pot -d locales -l en_GB
    pybabel update --no-fuzzy-matching --ignore-obsolete -i locales/messages.pot -d locales \
      -D messages
    # The source language: en_GB says exactly what the code says.
    python - <<'PY'
from babel.messages.pofile import read_po, write_po
path = "locales/en_GB/LC_MESSAGES/messages.po"
with open(path, "rb") as fh:
    catalog = read_po(fh, locale="en_GB")
for m in catalog:
    if m.id:
        m.string = m.id
        m.flags.discard("fuzzy")
catalog.last_translator = "rjbot developers"
catalog.language_team = "rjbot developers"
with open(path, "wb") as fh:
    write_po(fh, catalog, sort_output=True, omit_header=False)
PY
    ;;
  compile)  # --quiet: errors only (serve.sh and test.sh run it every time)
    if [ "${2:-}" = --quiet ]; then
      pybabel -q compile -d locales -D messages
    else
      pybabel compile -d locales -D messages --statistics
    fi
    ;;
  check)
    status=0
    for po in locales/*/LC_MESSAGES/messages.po; do
      msgfmt -c -o /dev/null "$po" || status=1
      python - "$po" <<'PY' || status=1
import sys
from babel.messages.pofile import read_po
path = sys.argv[1]
with open(path, "rb") as fh:
    catalog = read_po(fh)
bad = [m.id for m in catalog if m.id and (m.fuzzy or not (
    all(m.string) if isinstance(m.string, tuple) else m.string))]
for msgid in bad:
    print(f"{path}: fuzzy or untranslated: {msgid!r}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
    done
    exit $status
    ;;
  *) echo "usage: $0 extract|compile|check" >&2; exit 2 ;;
esac
