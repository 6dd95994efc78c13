#!/usr/bin/env bash
# Set up and run the whole test suite: install rjbot with its test tools, build the
# translation catalogs, run pytest. Extra arguments go to pytest (e.g. -m "not browser").
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
scripts/i18n.sh compile >/dev/null
exec python -m pytest -q "$@"
