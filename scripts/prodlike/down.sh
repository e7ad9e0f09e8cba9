#!/usr/bin/env bash
# Stop the production-shaped stack that scripts/prodlike/up.sh started (`make prodlike-stop`):
# the API pods and the code location's container, the Dagster daemon and webserver, the MLflow
# server, Azurite and PostgreSQL. Data stays under $LOANOPS_PRODLIKE_DIR (default data/prodlike)
# for the next `make prodlike`; stopping what is not running does nothing.
#
#   bash scripts/prodlike/down.sh           # stop, keep the data
#   bash scripts/prodlike/down.sh --purge   # stop and delete the data folder too
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
STATE="${LOANOPS_PRODLIKE_DIR:-$REPO/data/prodlike}"
NAME="${LOANOPS_PRODLIKE_NAME:-loanops-prodlike}"
PG_BIN="${LOANOPS_PG_BIN:-/usr/lib/postgresql/15/bin}"
PODMAN=(bash "$HERE/podman.sh")
RUN="$STATE/run"

# shellcheck source=scripts/prodlike/lib.sh
source "$HERE/lib.sh"

purge=false
case "${1:-}" in
    "") ;;
    --purge) purge=true ;;
    *) die "down" "unknown argument '$1' (the only option is --purge)" ;;
esac
started_at=$(now)

# Containers first (they use everything else); the pods get the Deployment's grace period.
# One podman call stops them in parallel (separate concurrent calls race on podman's locks).
containers=()
if command -v podman >/dev/null; then
    for name in "$NAME-api-1" "$NAME-api-2" "$NAME-dagster-code"; do
        if "${PODMAN[@]}" container exists "$name" 2>/dev/null; then containers+=("$name"); fi
    done
    if [[ ${#containers[@]} -gt 0 ]]; then
        "${PODMAN[@]}" rm -f -t 30 "${containers[@]}" >/dev/null
    fi
fi
for name in dagster-daemon dagster-webserver mlflow azurite; do
    stop_bg "$name"
done

cluster="$STATE/postgres/cluster"
if [[ -f "$cluster/postmaster.pid" ]]; then
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$cluster" -m fast -w stop >/dev/null || true
    else
        "$PG_BIN/pg_ctl" -D "$cluster" -m fast -w stop >/dev/null || true
    fi
fi

if $purge; then
    rm -rf "$STATE"
fi
echo "prodlike: stopped in $(elapsed "$started_at") s${purge:+}$($purge && echo "; $STATE deleted")"
