#!/usr/bin/env bash
# Starts Rapport: the action server in the background, then either a chat in this terminal
# (`run.sh chat`) or the HTTP server with the web chat page and the scheduler (`run.sh serve`).
# Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-chat}

eval "$(.venv/bin/python scripts/ensure_env.py --shell)"  # .env, parsed by python-dotenv, quoted
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p var

.venv/bin/python -m bot.review migrate >/dev/null

# Loopback only (the action server has no authentication); keep-alive longer than Rasa's idle
# gaps, or Sanic drops requests it already accepted.
SANIC_HOST=127.0.0.1 SANIC_KEEP_ALIVE_TIMEOUT=75 .venv/bin/rasa run actions --actions actions --port 5055 > var/actions.log 2>&1 &
actions_pid=$!
server_pid="" webchat_pid="" scheduler_pid=""
cleanup() {
  for pid in $scheduler_pid $webchat_pid $server_pid $actions_pid; do kill "$pid" 2>/dev/null || true; done
  for pid in $scheduler_pid $webchat_pid $server_pid $actions_pid; do wait "$pid" 2>/dev/null || true; done
}
# HUP: the terminal was closed; nothing may be left listening on the ports.
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

for _ in $(seq 1 120); do
  curl -fs http://127.0.0.1:5055/readyz >/dev/null 2>&1 && break
  kill -0 "$actions_pid" 2>/dev/null || { echo "The action server failed to start; see var/actions.log" >&2; exit 1; }
  sleep 0.5
done

case "$mode" in
  chat)
    export PYTHONWARNINGS=ignore  # library deprecation warnings only clutter the chat
    echo "Starting the chat (it takes ~30 s to load)."
    port="${RASA_PORT:-5005}"
    .venv/bin/rasa run --model models/rapport.tar.gz --endpoints endpoints.yml --credentials credentials.yml \
      --interface 127.0.0.1 --port "$port" > var/chat-server.log 2>&1 &
    server_pid=$!
    for _ in $(seq 1 240); do
      curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
      kill -0 "$server_pid" 2>/dev/null || { echo "The server failed to start; see var/chat-server.log" >&2; exit 1; }
      sleep 0.5
    done
    # Buttons as numbered options, and a prompt that always takes the client's own words
    # (channels/terminal.py says why not `rasa shell`). A fixed conversation id, so a check-in
    # paused in one chat can be resumed in the next.
    .venv/bin/python -m channels.terminal --url "http://127.0.0.1:$port" --sender local-shell
    ;;
  serve)
    : "${RASA_AUTH_TOKEN:?RASA_AUTH_TOKEN is not set in .env}"
    # The web chat page (webchat/, docs/channels.md), talking to this server's socket.io channel.
    rasa_url="http://$([ "${RASA_HOST:-127.0.0.1}" = 0.0.0.0 ] && echo 127.0.0.1 || echo "${RASA_HOST:-127.0.0.1}"):${RASA_PORT:-5005}"
    # The page is served from its own port, so socket.io must accept that origin (and no other).
    webchat_port="${RAPPORT_WEBCHAT_PORT:-8080}"
    export RAPPORT_WEBCHAT_ORIGINS="${RAPPORT_WEBCHAT_ORIGINS:-http://127.0.0.1:$webchat_port,http://localhost:$webchat_port}"
    if [ -f webchat/node_modules/socket.io-client/dist/socket.io.min.js ] \
       || (cd webchat && npm ci --ignore-scripts --no-audit --no-fund >/dev/null 2>&1); then
      .venv/bin/python webchat/serve.py --port "${RAPPORT_WEBCHAT_PORT:-8080}" --rasa-url "$rasa_url" > var/webchat.log 2>&1 &
      webchat_pid=$!
      echo "Web chat page on http://127.0.0.1:${RAPPORT_WEBCHAT_PORT:-8080}/"
    else
      echo "The web chat page needs its npm packages: cd webchat && npm ci" >&2
    fi
    # The scheduler (deploy/scheduler.py): scheduled check-ins and reminders through this server's
    # HTTP API, and the daily retention purge.
    RAPPORT_RASA_URL="${RAPPORT_RASA_URL:-$rasa_url}" .venv/bin/python -m deploy.scheduler > var/scheduler.log 2>&1 &
    scheduler_pid=$!
    echo "Scheduler running (var/scheduler.log)."
    echo "Rasa HTTP server on http://${RASA_HOST:-127.0.0.1}:${RASA_PORT:-5005} (REST channel at /webhooks/rest/webhook); Ctrl-C stops it."
    # scripts/rasa_run.py hands Rasa the API token from RASA_AUTH_TOKEN: never on a command line (ps).
    .venv/bin/python scripts/rasa_run.py run --model models/rapport.tar.gz --endpoints endpoints.yml \
      --credentials credentials.yml --enable-api \
      --interface "${RASA_HOST:-127.0.0.1}" --port "${RASA_PORT:-5005}"
    ;;
  *) echo "usage: run.sh chat|serve" >&2; exit 2 ;;
esac
