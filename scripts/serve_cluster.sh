#!/usr/bin/env bash
# `make serve-cluster`: the scale-out profile on this machine. Two Rasa replicas
# (endpoints.production.yml: conversations in PostgreSQL, Redis locks, events to RabbitMQ) and one
# action server (summaries in PostgreSQL), behind Debian's nginx on 127.0.0.1 only, which also
# serves the web chat page. Each run gets fresh database, lock-key, exchange and queue names, and
# removes them on exit (RAPPORT_CLUSTER_KEEP=1 keeps them). Ctrl-C stops everything.
#
# Settings (environment, .env, .env.production; defaults in brackets):
#   RAPPORT_REPLICAS [2]  RAPPORT_CLUSTER_HOST [127.0.0.1]  RAPPORT_CLUSTER_PORT [8088]
#   RAPPORT_REPLICA_BASE_PORT [5101]  RAPPORT_CLUSTER_ACTIONS_PORT [5155]
#   the review page, started when RAPPORT_REVIEW_USER and RAPPORT_REVIEW_PASSWORD_HASH are set:
#   behind nginx on RAPPORT_CLUSTER_REVIEW_PORT [cluster port + 1], itself on 127.0.0.1:RAPPORT_CLUSTER_REVIEW_BACKEND_PORT [5180]
#   the scheduler (deploy/scheduler.py): RAPPORT_SCHEDULERS [1] processes, sending through the
#   replicas (RAPPORT_RASA_URL [every replica's URL]); each scheduled message is sent once however many
#   RAPPORT_CLUSTER_DIR [a new temporary folder]: logs, nginx.conf and cluster.json (written when
#   everything answers: ports, pids, names; tests and bench/load.py read it)
#   TICKET_LOCK_LIFETIME [60], SANIC_KEEP_ALIVE_TIMEOUT [75]; service hosts and credentials as in .env.production.example.
#   Flood limits per client address (deploy/nginx.py): RAPPORT_NGINX_RATE_PER_MINUTE [120],
#   RAPPORT_NGINX_BURST [30], RAPPORT_NGINX_CONNECTIONS [20].
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
PY=.venv/bin/python

load_env_file() {  # KEY=value lines read as python-dotenv reads them; the environment wins
  [ -f "$1" ] || return 0
  eval "$($PY - "$1" <<'ENVEOF'
import os, shlex, sys
from dotenv import dotenv_values
for key, value in dotenv_values(sys.argv[1]).items():
    if value is not None and key.isidentifier() and key not in os.environ:
        print(f"export {key}={shlex.quote(value)}")
ENVEOF
)"
}
load_env_file .env.production
load_env_file .env
MODEL=${RAPPORT_MODEL:-models/rapport.tar.gz}

REPLICAS=${RAPPORT_REPLICAS:-2}
HOST=${RAPPORT_CLUSTER_HOST:-127.0.0.1}
PORT=${RAPPORT_CLUSTER_PORT:-8088}
BASE_PORT=${RAPPORT_REPLICA_BASE_PORT:-5101}
ACTIONS_PORT=${RAPPORT_CLUSTER_ACTIONS_PORT:-5155}
REVIEW_PORT=${RAPPORT_CLUSTER_REVIEW_PORT:-$((PORT + 1))}
REVIEW_BACKEND_PORT=${RAPPORT_CLUSTER_REVIEW_BACKEND_PORT:-5180}
export TICKET_LOCK_LIFETIME=${TICKET_LOCK_LIFETIME:-60}
# Sanic closes a new connection whose request it has not read within KEEP_ALIVE_TIMEOUT (5 s by
# default): under load, with the event loop busy, it then drops requests it has already accepted
# (Rasa: "Couldn't connect to the action server ... Cannot write to closing transport"; nginx: "upstream
# prematurely closed connection"). Longer than nginx's upstream keepalive_timeout (60 s).
export SANIC_KEEP_ALIVE_TIMEOUT=${SANIC_KEEP_ALIVE_TIMEOUT:-75}

case "$HOST" in
  127.*|localhost|::1) ;;
  *) echo "RAPPORT_CLUSTER_HOST must be a loopback address (put a TLS proxy in front for anything else)" >&2; exit 2 ;;
esac

# --- prerequisites -------------------------------------------------------------------------------
[ -f "$MODEL" ] || { echo "$MODEL is missing: run \`make train\`" >&2; exit 1; }

scripts/install_nginx.sh
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if [ ! -f webchat/node_modules/socket.io-client/dist/socket.io.min.js ]; then
  (cd webchat && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
fi

$PY -m deploy.services check || { echo "The cluster needs PostgreSQL, Redis and RabbitMQ (see above)." >&2; exit 1; }

# --- this run's names and secrets -----------------------------------------------------------------
RUN_ID=${RAPPORT_CLUSTER_RUN_ID:-c$(date +%s)$$}
export RAPPORT_TRACKER_DB_HOST=${RAPPORT_TRACKER_DB_HOST:-127.0.0.1} RAPPORT_TRACKER_DB_PORT=${RAPPORT_TRACKER_DB_PORT:-5432}
export RAPPORT_TRACKER_DB_USER=${RAPPORT_TRACKER_DB_USER:-postgres} RAPPORT_TRACKER_DB_PASSWORD=${RAPPORT_TRACKER_DB_PASSWORD:-}
export RAPPORT_TRACKER_DB_LOGIN_DB=${RAPPORT_TRACKER_DB_LOGIN_DB:-postgres}
export RAPPORT_TRACKER_DB_NAME="rapport_${RUN_ID}_tracker"
SUMMARY_DB="rapport_${RUN_ID}"
export RAPPORT_DATABASE_URL
RAPPORT_DATABASE_URL=$($PY -c "import os; from deploy.services import Services; print(Services.from_env(os.environ).database_url('$SUMMARY_DB'))")
export REDIS_HOST=${REDIS_HOST:-127.0.0.1} REDIS_PORT=${REDIS_PORT:-6379} REDIS_PASSWORD=${REDIS_PASSWORD:-} REDIS_LOCK_DB=${REDIS_LOCK_DB:-1}
export RAPPORT_LOCK_KEY_PREFIX="rapport${RUN_ID}"  # letters and digits only (Rasa ignores others)
export RABBITMQ_HOST=${RABBITMQ_HOST:-127.0.0.1} RABBITMQ_PORT=${RABBITMQ_PORT:-5672}
export RABBITMQ_USER=${RABBITMQ_USER:-guest} RABBITMQ_PASSWORD=${RABBITMQ_PASSWORD:-guest}
export RABBITMQ_EXCHANGE="rapport-${RUN_ID}" RABBITMQ_QUEUE="rapport-${RUN_ID}-events"
export RAPPORT_ACTION_SERVER_URL="http://127.0.0.1:${ACTIONS_PORT}/webhook"
secret() { $PY -c "import secrets; print(secrets.token_hex(16))"; }
export RAPPORT_ID_SECRET=${RAPPORT_ID_SECRET:-$(secret)}
export RAPPORT_ENCRYPTION_KEYS=${RAPPORT_ENCRYPTION_KEYS:-$($PY -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())")}
export RASA_AUTH_TOKEN=${RASA_AUTH_TOKEN:-$(secret)}
export RAPPORT_APP_TOKEN=${RAPPORT_APP_TOKEN:-$(secret)}

DIR=${RAPPORT_CLUSTER_DIR:-$(mktemp -d /tmp/rapport-cluster.XXXXXX)}
mkdir -p "$DIR/tmp"
rm -f "$DIR/cluster.json"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${RAPPORT_CLUSTER_KEEP:-0}" != 1 ]; then
    $PY -m deploy.services drop --dbs "$RAPPORT_TRACKER_DB_NAME" "$SUMMARY_DB" \
      --lock-prefix "$RAPPORT_LOCK_KEY_PREFIX" --exchange "$RABBITMQ_EXCHANGE" --queue "$RABBITMQ_QUEUE" || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

$PY -m deploy.services create-dbs "$RAPPORT_TRACKER_DB_NAME" "$SUMMARY_DB"
$PY -m bot.review migrate >/dev/null

# --- processes ------------------------------------------------------------------------------------
wait_for() {  # url pid log
  for _ in $(seq 1 480); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { echo "failed to start; last lines of $3:" >&2; tail -n 30 "$3" >&2; return 1; }
    sleep 0.5
  done
  echo "$1 did not answer in 240 s; see $3" >&2; return 1
}

SANIC_HOST=127.0.0.1 SANIC_RESPONSE_TIMEOUT=${SANIC_RESPONSE_TIMEOUT:-300} .venv/bin/rasa run actions --actions actions --port "$ACTIONS_PORT" >"$DIR/actions.log" 2>&1 &
actions_pid=$!; pids+=("$actions_pid")

replica_pids=(); replica_ports=(); rasa_args=()
for i in $(seq 1 "$REPLICAS"); do
  port=$((BASE_PORT + i - 1))
  .venv/bin/python scripts/rasa_run.py run --model "$MODEL" --endpoints endpoints.production.yml \
    --credentials credentials.yml --enable-api --interface 127.0.0.1 --port "$port" \
    >"$DIR/replica-$i.log" 2>&1 &
  replica_pids+=("$!"); replica_ports+=("$port"); pids+=("$!")
  rasa_args+=(--rasa "127.0.0.1:${port}")
done

# The practice review page, when its login is set: behind nginx's second listen address (X-Forwarded-*
# from that one proxy trusted).
review_args=(); review_url=""
if [ -n "${RAPPORT_REVIEW_USER:-}" ] && [ -n "${RAPPORT_REVIEW_PASSWORD_HASH:-}" ]; then
  RAPPORT_REVIEW_HOST=127.0.0.1 RAPPORT_REVIEW_PORT="$REVIEW_BACKEND_PORT" RAPPORT_PROXIES_COUNT=1 \
    $PY -m bot.web >"$DIR/review.log" 2>&1 &
  review_pid=$!; pids+=("$review_pid")
  review_args=(--review "127.0.0.1:${REVIEW_BACKEND_PORT}" --review-listen "$HOST:$REVIEW_PORT")
  review_url="http://$HOST:$REVIEW_PORT"
fi

# The scheduler(s): scheduled check-ins through the replicas' HTTP API, and the daily purge.
replica_urls=$(printf 'http://127.0.0.1:%s,' "${replica_ports[@]}")
scheduler_pids=()
for i in $(seq 1 "${RAPPORT_SCHEDULERS:-1}"); do
  RAPPORT_RASA_URL="${RAPPORT_RASA_URL:-${replica_urls%,}}" $PY -m deploy.scheduler >"$DIR/scheduler-$i.log" 2>&1 &
  scheduler_pids+=("$!"); pids+=("$!")
done

# Ready (docs/operations.md): the store migrated; each replica's model, PostgreSQL, Redis, RabbitMQ.
wait_for "http://127.0.0.1:${ACTIONS_PORT}/readyz" "$actions_pid" "$DIR/actions.log"
[ -z "$review_url" ] || wait_for "http://127.0.0.1:${REVIEW_BACKEND_PORT}/readyz" "$review_pid" "$DIR/review.log"
for i in $(seq 1 "$REPLICAS"); do
  wait_for "http://127.0.0.1:${replica_ports[$((i-1))]}/readyz" "${replica_pids[$((i-1))]}" "$DIR/replica-$i.log"
done

# --- nginx ----------------------------------------------------------------------------------------
$PY -m deploy.nginx --out "$DIR" --listen "$HOST:$PORT" "${rasa_args[@]}" ${review_args[@]+"${review_args[@]}"} \
  --frame-ancestors "${RAPPORT_WEBCHAT_FRAME_ANCESTORS:-'self'}"
nginx_args=(-p "$DIR" -c "$DIR/nginx.conf")
if [ "$(id -u)" -eq 0 ]; then  # nginx's workers then run as nobody: let them into the run's temp folder only
  chmod 711 "$DIR"; chown -R nobody:nogroup "$DIR/tmp"; nginx_args+=(-g "user nobody nogroup;")
fi
"$NGINX" -t -q "${nginx_args[@]}" 2>"$DIR/nginx-test.log" || { cat "$DIR/nginx-test.log" >&2; exit 1; }
"$NGINX" "${nginx_args[@]}" >"$DIR/nginx.out" 2>&1 &
nginx_pid=$!; pids+=("$nginx_pid")
wait_for "http://$HOST:$PORT/healthz" "$nginx_pid" "$DIR/error.log"

# --- ready ----------------------------------------------------------------------------------------
(umask 077; $PY - "$DIR/cluster.json" <<EOF
import json, sys
json.dump({
    "url": "http://$HOST:$PORT", "review_url": "$review_url",
    "replica_urls": [f"http://127.0.0.1:{p}" for p in "${replica_ports[*]}".split()],
    "replica_pids": [int(p) for p in "${replica_pids[*]}".split()],
    "actions_pid": $actions_pid, "nginx_pid": $nginx_pid,
    "scheduler_pids": [int(p) for p in "${scheduler_pids[*]}".split()],
    "auth_token": "$RASA_AUTH_TOKEN", "app_token": "$RAPPORT_APP_TOKEN",
    "database_url": "$RAPPORT_DATABASE_URL", "tracker_db": "$RAPPORT_TRACKER_DB_NAME",
    "lock_prefix": "$RAPPORT_LOCK_KEY_PREFIX",
    "exchange": "$RABBITMQ_EXCHANGE", "queue": "$RABBITMQ_QUEUE",
    "id_secret": "$RAPPORT_ID_SECRET", "encryption_keys": "$RAPPORT_ENCRYPTION_KEYS",
    "dir": "$DIR",
}, open(sys.argv[1] + ".part", "w"), indent=2)
import os; os.replace(sys.argv[1] + ".part", sys.argv[1])
EOF
)

cat <<EOF
Rapport cluster up: $REPLICAS Rasa replicas (ports ${replica_ports[*]}), actions on $ACTIONS_PORT, nginx on http://$HOST:$PORT,
  ${#scheduler_pids[@]} scheduler(s)
  web chat:   http://$HOST:$PORT/
  review page: ${review_url:-off (set RAPPORT_REVIEW_USER and RAPPORT_REVIEW_PASSWORD_HASH)}
  app channel: POST http://$HOST:$PORT/webhooks/app/webhook with Authorization: Bearer \$RAPPORT_APP_TOKEN
               (provider webhooks under /webhooks/)
  databases $SUMMARY_DB (summaries) and $RAPPORT_TRACKER_DB_NAME (conversations); queue $RABBITMQ_QUEUE
  logs in $DIR. Ctrl-C stops everything$( [ "${RAPPORT_CLUSTER_KEEP:-0}" = 1 ] && echo " (data kept)" || echo " and drops this run's data").
EOF

# Runs until interrupted. A replica that dies is left dead (nginx routes around it); the cluster
# stops when nginx or the action server stops.
while kill -0 "$nginx_pid" 2>/dev/null && kill -0 "$actions_pid" 2>/dev/null; do
  sleep 1
done
echo "nginx or the action server stopped; shutting down." >&2
exit 1
