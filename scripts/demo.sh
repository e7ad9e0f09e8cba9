#!/usr/bin/env bash
# `make demo`: generate a loan book, materialise the whole Dagster graph (ingest -> dbt ->
# train -> promote -> batch scores -> deploy), then leave the API, the Dagster UI and the
# MLflow UI running in the background and print how to reach them.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
DATA=${LOANOPS_DATA_DIR:-$PWD/data}
export LOANOPS_DATA_DIR=$DATA
ROWS=${DEMO_ROWS:-121856}
SEED=${DEMO_SEED:-7}
API_PORT=${DEMO_API_PORT:-8080}
DAGSTER_PORT=${DEMO_DAGSTER_PORT:-3000}
MLFLOW_PORT=${DEMO_MLFLOW_PORT:-5000}
RUN=$DATA/run
mkdir -p "$RUN"
start=$(date +%s)

step() { printf '\n==> [%3ss] %s\n' "$(( $(date +%s) - start ))" "$*"; }

wait_http() {  # url seconds
  local deadline=$(( $(date +%s) + $2 ))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then return 1; fi
    sleep 1
  done
}

bash scripts/stop-demo.sh >/dev/null  # a second `make demo` replaces the first one's servers

if [ -e "$DATA/landing/applications_demo.csv" ] || [ -e "$DATA/truth/book_demo.json" ]; then
  step "loan book 'demo' already generated; reusing it"
else
  step "1/4 generating a loan book of $ROWS applications (seed $SEED)"
  $BIN/loanops generate --rows "$ROWS" --seed "$SEED" --name demo
fi

step "2/4 materialising the whole asset graph (ingest, dbt build, training, promotion, scores)"
$BIN/loanops pipeline

step "3/4 starting the scoring API on port $API_PORT"
KEY_FILE=$DATA/api-key
if [ ! -s "$KEY_FILE" ]; then
  (umask 077 && $BIN/python -c "import secrets; print(secrets.token_urlsafe(24))" > "$KEY_FILE")
fi
export LOANOPS_API_KEYS_FILE=$KEY_FILE
setsid $BIN/loanops serve --port "$API_PORT" > "$RUN/api.log" 2>&1 &
echo $! > "$RUN/api.pid"
if ! wait_http "http://127.0.0.1:$API_PORT/readyz" 180; then
  echo "the API did not become ready; see $RUN/api.log" >&2
  exit 1
fi

step "4/4 starting the Dagster UI (port $DAGSTER_PORT) and the MLflow UI (port $MLFLOW_PORT)"
setsid $BIN/loanops pipeline --ui --port "$DAGSTER_PORT" > "$RUN/dagster.log" 2>&1 &
echo $! > "$RUN/dagster.pid"
setsid env PATH="$PWD/$BIN:$PATH" $BIN/mlflow ui --host 127.0.0.1 --port "$MLFLOW_PORT" \
  --backend-store-uri "sqlite:///$DATA/mlflow/mlflow.db" \
  --default-artifact-root "$DATA/mlflow/artifacts" > "$RUN/mlflow.log" 2>&1 &
echo $! > "$RUN/mlflow.pid"
wait_http "http://127.0.0.1:$DAGSTER_PORT/server_info" 120 || echo "(Dagster UI still starting; see $RUN/dagster.log)"
wait_http "http://127.0.0.1:$MLFLOW_PORT/health" 60 || echo "(MLflow UI still starting; see $RUN/mlflow.log)"

KEY=$(cat "$KEY_FILE")
cat <<EOF

Demo ready in $(( $(date +%s) - start )) s.
  API        http://127.0.0.1:$API_PORT      (key in $KEY_FILE; logs $RUN/api.log)
  Dagster UI http://127.0.0.1:$DAGSTER_PORT
  MLflow UI  http://127.0.0.1:$MLFLOW_PORT
  Warehouse  $DATA/warehouse.duckdb

Score an application:
  curl -s http://127.0.0.1:$API_PORT/v1/predictions \\
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\
    -d '{"Client_Income": "6750", "Credit_Amount": "61190.55", "Loan_Annuity": "3416.85", "Age_Days": "13957", "Score_Source_2": "0.48", "Score_Source_3": "$"}'

Stop the servers: make stop
EOF
