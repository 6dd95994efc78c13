#!/usr/bin/env bash
# Set up and start rjbot on the embedded default: a virtual environment in .venv (made once,
# reinstalled only when pyproject.toml changes), the translation catalogs, then `rjbot serve`
# (SQLite in ./data, a generated key file, the console on http://127.0.0.1:8080/console/,
# channels off until their settings are given). Extra arguments go to `rjbot serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
venv_ready
scripts/i18n.sh compile --quiet
echo "rjbot: starting rjbot serve; for the rjbot command in your shell: source $VENV/bin/activate"
exec "$VENV/bin/rjbot" serve "$@"
