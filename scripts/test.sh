#!/usr/bin/env bash
# The whole test suite: data validation, conversation tests (rasa test), unit, store and
# end-to-end tests. `make test` runs set-up and training first; CI runs this through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec .venv/bin/python -m pytest -q -p no:cacheprovider tests "$@"
