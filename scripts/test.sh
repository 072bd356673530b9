#!/usr/bin/env bash
# The whole test suite: data validation, conversation tests (rasa test), unit, store and
# end-to-end tests. `make test` runs set-up and training first; CI runs this through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# `make test-unit` (scripts/test.sh --unit): the fast tests for the inner loop, under a minute: no
# Rasa server, no review server, no browser (the language heads in models/language.npz are read).
# The slow suites stay in `make test`: the crisis phrase lists, the real servers, the browsers.
UNIT_TESTS=(
  tests/test_scoring.py tests/test_replies.py tests/test_resources.py tests/test_insights.py
  tests/test_crypto.py tests/test_identity.py tests/test_notify.py tests/test_consent.py
  tests/language/test_answers.py tests/language/test_decisions.py tests/language/test_normalize.py
  tests/language/test_reflect.py tests/language/test_model.py
  tests/components/test_language.py tests/components/test_action_response_validation.py
  tests/components/test_event_broker.py
  tests/actions tests/scripts tests/store
  tests/channels/test_common.py tests/channels/test_credentials.py tests/channels/test_terminal.py
  tests/web/test_auth.py tests/web/test_data.py
)
if [[ "${1:-}" == "--unit" ]]; then
  shift
  # The store's tests on SQLite only here; `make test` runs them on PostgreSQL too.
  exec .venv/bin/python -m pytest -q -p no:cacheprovider "${UNIT_TESTS[@]}" -k "not postgresql" "$@"
fi
# Debian chromium for the browser tests (installs once; they skip, saying why, if it cannot).
scripts/install_browser.sh >/dev/null 2>&1 || echo "note: chromium could not be installed; browser tests will skip" >&2
# Debian's nginx for the tests of the rendered nginx config and the flood limits (the same).
scripts/install_nginx.sh >/dev/null 2>&1 || echo "note: nginx could not be installed; its tests will skip" >&2
exec .venv/bin/python -m pytest -q -p no:cacheprovider tests "$@"
