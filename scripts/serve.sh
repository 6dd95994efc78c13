#!/usr/bin/env bash
# Set up and start rjbot on the embedded default: SQLite in ./data, a generated key file,
# the console on http://127.0.0.1:8080/console, channels off until their settings are given.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -e .
scripts/i18n.sh compile >/dev/null
exec rjbot serve
