#!/usr/bin/env bash
# Starts Rapport: the action server in the background, then either a chat in this terminal
# (`run.sh chat`) or the HTTP server (`run.sh serve`). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-chat}

set -a; [ -f .env ] && . ./.env; set +a
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p var

.venv/bin/python -m bot.review migrate >/dev/null

SANIC_HOST=127.0.0.1 .venv/bin/rasa run actions --actions actions --port 5055 > var/actions.log 2>&1 &
actions_pid=$!
cleanup() { kill "$actions_pid" 2>/dev/null || true; wait "$actions_pid" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

for _ in $(seq 1 120); do
  curl -fs http://127.0.0.1:5055/health >/dev/null 2>&1 && break
  kill -0 "$actions_pid" 2>/dev/null || { echo "The action server failed to start; see var/actions.log" >&2; exit 1; }
  sleep 0.5
done

case "$mode" in
  chat)
    echo "Starting the chat (it takes ~30 s to load). Type /stop to leave."
    .venv/bin/rasa shell --model models/rapport.tar.gz --endpoints endpoints.yml
    ;;
  serve)
    : "${RASA_AUTH_TOKEN:?RASA_AUTH_TOKEN is not set in .env}"
    echo "Rasa HTTP server on http://${RASA_HOST:-127.0.0.1}:${RASA_PORT:-5005} (REST channel at /webhooks/rest/webhook); Ctrl-C stops it."
    .venv/bin/rasa run --model models/rapport.tar.gz --endpoints endpoints.yml --credentials credentials.yml \
      --enable-api --auth-token "$RASA_AUTH_TOKEN" \
      --interface "${RASA_HOST:-127.0.0.1}" --port "${RASA_PORT:-5005}"
    ;;
  *) echo "usage: run.sh chat|serve" >&2; exit 2 ;;
esac
