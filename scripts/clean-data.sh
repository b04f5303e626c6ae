#!/usr/bin/env bash
# Drops the services' databases (they are recreated empty by the next `make up`),
# the Redis keys of the queue and caches, and Prometheus' data.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
PG_URL=${PG_URL:-postgres://postgres:postgres@127.0.0.1:5432}

bash "$ROOT/scripts/deps.sh"
for db in users catalog orders; do
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" && log "dropped database $db"
done
redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-6379}" --scan --pattern 'orders:*' | xargs -r redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-6379}" del >/dev/null
redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-6379}" --scan --pattern '*:v1:*' | xargs -r redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-6379}" del >/dev/null
rm -rf "$RUN_DIR/prometheus-data"
log "data cleared; 'make up' starts from empty databases"
