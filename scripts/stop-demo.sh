#!/usr/bin/env bash
# `make stop`: stop the API and UIs that `make demo` left running (each in its own process group).
# SIGTERM first; whatever is still alive after a grace period (dagster dev ignores SIGTERM when
# it has no terminal) gets SIGKILL.
set -uo pipefail
cd "$(dirname "$0")/.."
RUN=${LOANOPS_DATA_DIR:-$PWD/data}/run
groups=()
for pidfile in "$RUN"/*.pid; do
  [ -e "$pidfile" ] || continue
  groups+=("$(cat "$pidfile")")
  rm -f "$pidfile"
done
[ ${#groups[@]} -eq 0 ] && { echo "nothing to stop"; exit 0; }
for group in "${groups[@]}"; do kill -TERM -- "-$group" 2>/dev/null; done
for _ in $(seq 1 10); do
  alive=0
  for group in "${groups[@]}"; do kill -0 -- "-$group" 2>/dev/null && alive=1; done
  [ $alive -eq 0 ] && break
  sleep 1
done
for group in "${groups[@]}"; do kill -KILL -- "-$group" 2>/dev/null; done
echo "stopped"
