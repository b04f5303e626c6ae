#!/usr/bin/env bash
# Stops exactly what `make up` (and scripts/deps.sh) started, newest first. Data stays.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

for name in load-generator cost-optimizer predictor-service order-worker order-service catalog-service user-service prometheus; do
    stop "$name"
done
if [ -f "$RUN_DIR/redis.pid" ]; then
    stop redis
fi
if [ -f "$RUN_DIR/postgres.started" ]; then
    # shellcheck disable=SC2046
    pg_ctlcluster $(cat "$RUN_DIR/postgres.started") stop && log "stopped PostgreSQL"
    rm -f "$RUN_DIR/postgres.started"
fi
