#!/usr/bin/env bash
# Set up and run the whole test suite: a virtual environment in .venv (made once, reinstalled
# only when pyproject.toml changes) with rjbot and its test tools, the translation catalogs,
# then pytest. Extra arguments go to pytest (e.g. -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
venv_ready dev
scripts/i18n.sh compile --quiet
exec "$VENV/bin/python" -m pytest -q "$@"
