#!/usr/bin/env bash
# Start the action server and Rasa in the foreground; Ctrl-C stops both.
# Usage: bot/ops/run.sh MODEL [run|shell]
# Rasa starts through bot/start.py: version check, our fixes, known warnings hidden.
# LOG_FORMAT=json: both write one JSON object per log line (common/json_logs.py).
# Rasa answers GET /metrics and GET /health; the action server GET /metrics and /health/ready.
set -euo pipefail
cd "$(dirname "$0")/../.."
model=$1
mode=${2:-run}
: "${RASA_PORT:=5005}" "${ACTIONS_PORT:=5055}" "${RASA_HOST:=127.0.0.1}"
export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:$ACTIONS_PORT/webhook}"
export RASA_TELEMETRY_ENABLED=false PYTHONPATH="$PWD"
endpoints=${ENDPOINTS:-endpoints.yml}
# Secret shared by Rasa and the action server: random when unset (default profile only;
# the production profile refuses to start without it).
ACTION_SERVER_TOKEN=$(.venv-actions/bin/python -m common.action_secret --endpoints "$endpoints")
export ACTION_SERVER_TOKEN
mkdir -p var/log

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "Arrêt de l'assistant..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

.venv-actions/bin/python -m actions.ops.action_server --actions actions --port "$ACTIONS_PORT" \
  >var/log/actions.log 2>&1 &
pids+=($!)

credentials=$(bot/ops/credentials.sh)
# The embedded default records every conversation in var/conversations.db (endpoints.yml):
# created in WAL mode, so `make insights` and the Slack figures never block Rasa's writes.
if grep -q '^  db: var/conversations.db' "$endpoints"; then
  .venv-rasa/bin/python -m bot.ops.insights --prepare-store var/conversations.db
fi
if [ "$mode" = shell ]; then
  .venv-rasa/bin/python -m bot.start shell --model "$model" --credentials "$credentials" --endpoints "$endpoints"
  exit 0
fi

read -r -a log_args <<<"$(.venv-actions/bin/python -c \
  'from common.json_logs import logging_config_args; print(" ".join(logging_config_args()))')"
.venv-rasa/bin/python -m bot.start run --model "$model" --interface "$RASA_HOST" --port "$RASA_PORT" \
  --credentials "$credentials" --endpoints "$endpoints" ${log_args[@]+"${log_args[@]}"} &
pids+=($!)

for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$RASA_PORT/webhooks/rest/" >/dev/null 2>&1; then break; fi
  kill -0 "${pids[1]}" 2>/dev/null || { echo "Rasa s'est arrêté : voir les lignes ci-dessus." >&2; exit 1; }
  sleep 0.5
done
cat <<MSG

L'assistant URBACT est prêt (journal des actions : var/log/actions.log).
  Site de démonstration (widget de chat) : http://127.0.0.1:$RASA_PORT/chat/
  REST : curl -s -X POST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook \\
           -H 'Content-Type: application/json' \\
           -d '{"sender": "moi", "message": "Bonjour"}'
  Ctrl-C arrête l'assistant.
MSG
wait -n "${pids[@]}"
