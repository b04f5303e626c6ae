#!/usr/bin/env bash
# Drops the services' databases (they are recreated empty by the next `make up`),
# the Redis keys of the queue and caches, Prometheus' data, and test databases that a
# killed test run left behind (a test drops its own when it ends).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
PG_URL=${PG_URL:-postgres://postgres:postgres@127.0.0.1:5432}

bash "$ROOT/scripts/deps.sh"
for db in users catalog orders; do
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" && log "dropped database $db"
done
redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-6379}" --scan --pattern 'orders:*' | xargs -r redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-6379}" del >/dev/null
redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-6379}" --scan --pattern '*:v[0-9]:*' | xargs -r redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-6379}" del >/dev/null
psql "$PG_URL/postgres" -Atc "SELECT datname FROM pg_database WHERE (datname LIKE 'test\_%' OR datname LIKE 'e2e\_%') AND datname NOT IN (SELECT datname FROM pg_stat_activity WHERE datname IS NOT NULL)" |
    while read -r db; do psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$db\""; done
rm -rf "$RUN_DIR/prometheus-data"
log "data cleared; 'make up' starts from empty databases"
