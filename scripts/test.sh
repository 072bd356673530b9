#!/usr/bin/env bash
# The whole test suite: data validation, conversation tests (rasa test), unit, store and
# end-to-end tests. `make test` runs set-up and training first; CI runs this through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# Debian chromium for the browser tests (installs once; they skip, saying why, if it cannot).
scripts/install_browser.sh >/dev/null 2>&1 || echo "note: chromium could not be installed; browser tests will skip" >&2
exec .venv/bin/python -m pytest -q -p no:cacheprovider tests "$@"
