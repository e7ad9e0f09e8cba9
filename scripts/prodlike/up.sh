#!/usr/bin/env bash
# Start the production-shaped stack on this machine (`make prodlike`), loopback only, each part the
# stand-in for its Azure counterpart:
#   PostgreSQL 15     Azure SQL: database `loanops` holds the warehouse and the prediction store;
#                     `dagster` and `mlflow` hold Dagster's and MLflow's own tables
#   Azurite           Blob storage: container `landing` (lenders' files), `mlflow` (artifacts)
#   mlflow server     Azure ML's MLflow (PostgreSQL backend, artifacts proxied to Azurite)
#   Dagster           the Helm chart: dagster-webserver and dagster-daemon, the code location as a
#                     gRPC server in a container of localhost/loanops-dagster:dev, runs launched in
#                     their own process in that container
#   two API pods      the Deployment: containers of localhost/loanops-api:dev, non-root, read-only
#                     root filesystem, /tmp a tmpfs, started at the same moment
# It returns when every part is ready and does nothing to a part that already runs, so running it
# again is quick and harmless. State, logs and data/prodlike/env (to `source`) live under
# $LOANOPS_PRODLIKE_DIR (default data/prodlike); scripts/prodlike/down.sh stops it all.
#
#   bash scripts/prodlike/up.sh
#
# LOANOPS_PRODLIKE_DIR and LOANOPS_PRODLIKE_NAME (container name prefix) let a second stack (the
# end-to-end test's) run beside an operator's without sharing anything.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
STATE="${LOANOPS_PRODLIKE_DIR:-$REPO/data/prodlike}"
NAME="${LOANOPS_PRODLIKE_NAME:-loanops-prodlike}"
BIN="$REPO/.venv/bin"
PG_BIN="${LOANOPS_PG_BIN:-/usr/lib/postgresql/15/bin}"
PODMAN=(bash "$HERE/podman.sh")
API_IMAGE="${LOANOPS_API_IMAGE:-localhost/loanops-api:dev}"
DAGSTER_IMAGE="${LOANOPS_DAGSTER_IMAGE:-localhost/loanops-dagster:dev}"
LOGS="$STATE/logs"
RUN="$STATE/run"

# shellcheck source=scripts/prodlike/lib.sh
source "$HERE/lib.sh"

mkdir -p "$STATE" "$LOGS" "$RUN"
STATE="$(cd "$STATE" && pwd)"
started_at=$(now)

for tool in "$BIN/python" "$BIN/mlflow" "$BIN/dagster-webserver" "$BIN/dagster-daemon" \
    "$REPO/node_modules/.bin/azurite-blob" "$PG_BIN/pg_ctl" curl podman; do
    command -v "$tool" >/dev/null || die "setup" "$tool not found: run \`make install\` first"
done

# ---- ports and the API key: chosen once, kept with the state ------------------------------------
if [[ ! -f "$STATE/ports" ]]; then
    # shellcheck disable=SC2046
    set -- $("$BIN/python" - <<'PY'
import socket
socks = [socket.socket() for _ in range(7)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)
    cat >"$STATE/ports" <<EOF
PG_PORT=$1
AZURITE_PORT=$2
MLFLOW_PORT=$3
GRPC_PORT=$4
WEBSERVER_PORT=$5
API1_PORT=$6
API2_PORT=$7
EOF
fi
# shellcheck source=/dev/null
source "$STATE/ports"

# The pods read the store URL from a mounted file, as from the Key Vault mount on AKS.
mkdir -p "$STATE/secrets"
printf '%s\n' "postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/loanops" >"$STATE/secrets/prediction-store-url"
if [[ ! -s "$STATE/api-keys" ]]; then
    (umask 077 && "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(32))' >"$STATE/api-keys")
fi
# Mounted into the pods as the Deployment mounts its Secret: readable by the pods' group only.
chown 0:10001 "$STATE/api-keys" 2>/dev/null || true
chmod 0440 "$STATE/api-keys"
API_KEY="$(head -n1 "$STATE/api-keys")"

# ---- the environment every part and the operator's shell share -----------------------------------
# Azurite's fixed development account and key (public, documented by Microsoft for the emulator).
AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==' # pragma: allowlist secret
AZURE_CONN="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;BlobEndpoint=http://127.0.0.1:$AZURITE_PORT/devstoreaccount1;"
PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT"
API_URLS="http://127.0.0.1:$API1_PORT,http://127.0.0.1:$API2_PORT"

# Shared by the host processes and the containers (written as `KEY=value` for podman --env-file).
cat >"$STATE/container.env" <<EOF
LOANOPS_TARGET=postgres
LOANOPS_PG_HOST=127.0.0.1
LOANOPS_PG_PORT=$PG_PORT
LOANOPS_PG_USER=postgres
LOANOPS_PG_DATABASE=loanops
LOANOPS_DAGSTER_PG_DATABASE=dagster
MLFLOW_TRACKING_URI=http://127.0.0.1:$MLFLOW_PORT
AZURE_STORAGE_CONNECTION_STRING=$AZURE_CONN
LOANOPS_LANDING_URL=az://landing
LOANOPS_API_URL=http://127.0.0.1:$API1_PORT
LOANOPS_API_URLS=$API_URLS
LOANOPS_DAGSTER_GRPC_PORT=$GRPC_PORT
EOF

{
    echo "# The production-shaped stack (scripts/prodlike/up.sh): \`source\` this file, then use"
    echo "# loanops, dbt, dagster and curl against it as an operator would in Azure."
    sed -e 's/^\([A-Z_]*\)=\(.*\)$/export \1='"'"'\2'"'"'/' "$STATE/container.env"
    cat <<EOF
export LOANOPS_API_KEY='$API_KEY'
export LOANOPS_PREDICTION_STORE_URL='$PG_URL/loanops'
export LOANOPS_DAGSTER_URL='http://127.0.0.1:$WEBSERVER_PORT'
export DAGSTER_HOME='$STATE/dagster'
export LOANOPS_DAGSTER_STORAGE_DIR='$STATE/dagster/storage'
export LOANOPS_DAGSTER_COMPUTE_LOG_DIR='$STATE/dagster/logs'
export LOANOPS_DATA_DIR='$STATE/cli'
export DBT_PROFILES_DIR='$REPO/profiles'
# \`dagster job launch\` and \`dagster job list\` use the stack's code location.
export DAGSTER_CLI_JOB_LAUNCH_WORKSPACE='$HERE/workspace.yaml'
export DAGSTER_CLI_JOB_LIST_WORKSPACE='$HERE/workspace.yaml'
EOF
} >"$STATE/env.tmp"
chmod 0600 "$STATE/env.tmp" # it holds the API key
mv "$STATE/env.tmp" "$STATE/env"
set -a
# shellcheck source=/dev/null
source "$STATE/env"
set +a
echo "prodlike: state in $STATE"

# ---- PostgreSQL ------------------------------------------------------------------------------------
step "postgresql"
pg_dir="$STATE/postgres"
cluster="$pg_dir/cluster"
as_postgres() { if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
    if [[ ! -f "$cluster/PG_VERSION" ]]; then
        mkdir -p "$pg_dir"
        [[ "$(id -u)" == 0 ]] && chown postgres:postgres "$pg_dir"
        as_postgres "$PG_BIN/initdb" -D "$cluster" -U postgres -A trust -E UTF8 \
            >"$LOGS/initdb.log" 2>&1 || die "postgresql" "initdb failed; see $LOGS/initdb.log"
    fi
    # fsync off: a throw-away stand-in, tuned for test speed rather than crash safety.
    as_postgres "$PG_BIN/pg_ctl" -D "$cluster" -l "$pg_dir/server.log" -w -t 60 \
        -o "-p $PG_PORT -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c full_page_writes=off" \
        start >/dev/null || die "postgresql" "the server did not start; see $pg_dir/server.log"
fi
for db in loanops dagster mlflow; do
    exists="$("$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
        "select 1 from pg_database where datname = '$db'")"
    [[ "$exists" == 1 ]] || "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$db"
done
done_step "127.0.0.1:$PG_PORT"

# ---- Azurite ----------------------------------------------------------------------------------------
step "azurite"
mkdir -p "$STATE/azurite"
if ! http_up "http://127.0.0.1:$AZURITE_PORT/devstoreaccount1?comp=list"; then
    start_bg azurite "$LOGS/azurite.log" "$REPO/node_modules/.bin/azurite-blob" \
        --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" --location "$STATE/azurite" \
        --loose --skipApiVersionCheck --disableTelemetry --silent
    wait_until azurite 60 "$LOGS/azurite.log" \
        http_up "http://127.0.0.1:$AZURITE_PORT/devstoreaccount1?comp=list"
fi
"$BIN/python" - <<'PY' >>"$LOGS/azurite.log" 2>&1 || die azurite "creating the containers failed; see $LOGS/azurite.log"
import os

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient

service = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])
for name in ("landing", "mlflow"):
    try:
        service.create_container(name)
    except ResourceExistsError:
        pass
PY
done_step "127.0.0.1:$AZURITE_PORT (containers landing, mlflow)"

# ---- MLflow tracking server, Dagster, API pods: started together, then waited for ---------------
ready() { # part start-time [detail]
    echo "prodlike: $1 ready in $(elapsed "$2") s${3:+ ($3)}"
}

t_mlflow=$(now)
if ! http_up "http://127.0.0.1:$MLFLOW_PORT/health"; then
    # Clients talk HTTP to the server only; it proxies artifacts to the `mlflow` container.
    start_bg mlflow "$LOGS/mlflow.log" "$BIN/mlflow" server \
        --host 127.0.0.1 --port "$MLFLOW_PORT" --workers 2 \
        --backend-store-uri "$PG_URL/mlflow" \
        --serve-artifacts \
        --artifacts-destination "wasbs://mlflow@devstoreaccount1.blob.core.windows.net/"
    echo "prodlike: mlflow starting"
fi

# Images: built by images.sh (cached: rebuilt only when their inputs change) while MLflow starts.
step "images"
bash "$HERE/images.sh" >"$LOGS/images.log" 2>&1 ||
    die "images" "building the images failed; see $LOGS/images.log"
done_step

mkdir -p "$DAGSTER_HOME" "$LOANOPS_DAGSTER_STORAGE_DIR" "$LOANOPS_DAGSTER_COMPUTE_LOG_DIR"
cp "$HERE/dagster.yaml" "$DAGSTER_HOME/dagster.yaml"

start_container() { # name image [podman run options...] -- command...
    local name="$1" image="$2"
    shift 2
    local options=()
    while [[ $# -gt 0 && "$1" != "--" ]]; do
        options+=("$1")
        shift
    done
    [[ $# -gt 0 ]] && shift
    local want running have
    want="$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$image")" ||
        die "$name" "image $image not found (scripts/prodlike/images.sh builds it)"
    running="$("${PODMAN[@]}" container inspect --format '{{.State.Running}}' "$name" 2>/dev/null || true)"
    have="$("${PODMAN[@]}" container inspect --format '{{.Image}}' "$name" 2>/dev/null || true)"
    if [[ "$running" == true && "$have" == "$want" ]]; then
        return 0 # already running the current image
    fi
    "${PODMAN[@]}" rm -f -t 10 "$name" >/dev/null 2>&1 || true
    "${PODMAN[@]}" run -d --name "$name" --network host \
        --env-file "$STATE/container.env" --log-driver k8s-file \
        --log-opt "path=$LOGS/$name.log" "${options[@]}" "$image" "$@" \
        >/dev/null 2>>"$LOGS/podman.log" </dev/null ||
        die "$name" "podman could not start the container; see $LOGS/podman.log"
    echo "prodlike: $name starting"
}

# The code location: the image the Helm chart's user deployment runs. Run processes start inside
# it and keep their files in its /tmp (the variables below point dagster.yaml there).
t_code=$(now)
code="$NAME-dagster-code"
start_container "$code" "$DAGSTER_IMAGE" \
    -e LOANOPS_DAGSTER_STORAGE_DIR=/tmp/dagster/storage \
    -e LOANOPS_DAGSTER_COMPUTE_LOG_DIR=/tmp/dagster/logs \
    -e "LOANOPS_PREDICTION_STORE_URL=$PG_URL/loanops" \
    -v "$DAGSTER_HOME/dagster.yaml:/opt/dagster/dagster_home/dagster.yaml:ro" -- \
    dagster api grpc --host 127.0.0.1 --port "$GRPC_PORT" --module-name orchestration.definitions

# The API pods, as k8s/base/deployment.yaml runs them; both created at the same moment so that
# their start-up migrations meet.
t_api=$(now)
pids=()
i=0
for port in "$API1_PORT" "$API2_PORT"; do
    i=$((i + 1))
    start_container "$NAME-api-$i" "$API_IMAGE" \
        --read-only --read-only-tmpfs=false --tmpfs /tmp:rw,size=512m,mode=1777 \
        --user 10001:10001 --cap-drop ALL --security-opt no-new-privileges \
        -e "PORT=$port" -e "GUNICORN_CMD_ARGS=--bind 127.0.0.1:$port" -e WEB_CONCURRENCY=2 \
        -e LOANOPS_API_KEYS_FILE=/var/run/secrets/loanops/api-keys \
        -e LOANOPS_MODEL_POLL_SECONDS=10 \
        -e LOANOPS_PREDICTION_STORE_URL_FILE=/var/run/secrets/loanops/prediction-store-url \
        -v "$STATE/api-keys:/var/run/secrets/loanops/api-keys:ro" \
        -v "$STATE/secrets/prediction-store-url:/var/run/secrets/loanops/prediction-store-url:ro" &
    pids+=($!)
done
for pid in "${pids[@]}"; do
    wait "$pid" || die "api-pods" "an API pod did not start; see $LOGS/$NAME-api-*.log"
done

# ---- waits -------------------------------------------------------------------------------------------
wait_until mlflow 180 "$LOGS/mlflow.log" http_up "http://127.0.0.1:$MLFLOW_PORT/health"
ready mlflow "$t_mlflow" "http://127.0.0.1:$MLFLOW_PORT"

wait_until "$code" 300 "$LOGS/$code.log" \
    "$BIN/dagster" api grpc-health-check --host 127.0.0.1 --port "$GRPC_PORT"
ready dagster-code "$t_code" "gRPC 127.0.0.1:$GRPC_PORT"

t_dagster=$(now)
if [[ ! -f "$DAGSTER_HOME/.migrated" ]]; then
    # Create Dagster's tables once, before the webserver and the daemon both try to.
    "$BIN/dagster" instance migrate >"$LOGS/dagster-migrate.log" 2>&1 ||
        die dagster "creating Dagster's tables failed; see $LOGS/dagster-migrate.log"
    touch "$DAGSTER_HOME/.migrated"
fi
if ! http_up "http://127.0.0.1:$WEBSERVER_PORT/server_info"; then
    start_bg dagster-webserver "$LOGS/dagster-webserver.log" "$BIN/dagster-webserver" \
        -h 127.0.0.1 -p "$WEBSERVER_PORT" -w "$HERE/workspace.yaml"
fi
if ! alive dagster-daemon; then
    start_bg dagster-daemon "$LOGS/dagster-daemon.log" "$BIN/dagster-daemon" run \
        -w "$HERE/workspace.yaml"
fi
wait_until dagster-webserver 180 "$LOGS/dagster-webserver.log" \
    http_up "http://127.0.0.1:$WEBSERVER_PORT/server_info"
ready dagster-webserver "$t_dagster" "UI on http://127.0.0.1:$WEBSERVER_PORT"
wait_until dagster-daemon 180 "$LOGS/dagster-daemon.log" "$BIN/dagster-daemon" liveness-check
ready dagster-daemon "$t_dagster"

for i in 1 2; do
    port_var="API${i}_PORT"
    wait_until "$NAME-api-$i" 240 "$LOGS/$NAME-api-$i.log" \
        http_up "http://127.0.0.1:${!port_var}/healthz"
done
ready api-pods "$t_api" "$API_URLS"

echo "prodlike: ready in $(elapsed "$started_at") s; \`source $STATE/env\` to use it"
