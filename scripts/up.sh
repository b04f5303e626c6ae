#!/usr/bin/env bash
# Starts the platform natively on loopback: the services, the order worker and a
# Prometheus scraping them with the project's own rules. Processes that already run
# are left alone, so running it twice is harmless. Every port comes from the
# environment, so a test can run a second platform beside a developer's.
#
# Every service verifies tokens with the secret in $RUN_DIR/auth-secret (made once,
# kept across runs so that tokens outlive a restart); each run mints a fresh admin
# token (12 h) into $RUN_DIR/admin-token for the scripts and for curl.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
mkdir -p "$RUN_DIR"

USER_PORT=${USER_PORT:-8001}
CATALOG_PORT=${CATALOG_PORT:-8002}
ORDER_PORT=${ORDER_PORT:-8003}
PREDICTOR_PORT=${PREDICTOR_PORT:-8004}
COST_PORT=${COST_PORT:-8005}
WORKER_PORT=${WORKER_PORT:-9103}
PROMETHEUS_PORT=${PROMETHEUS_PORT:-9090}
PG_URL=${PG_URL:-postgres://postgres:postgres@127.0.0.1:5432}
PG_DB_PREFIX=${PG_DB_PREFIX:-}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
REDIS_PREFIX=${REDIS_PREFIX:-}
LOCAL=http://127.0.0.1

for bin in user-service catalog-service order-service predictor-service cost-optimizer issue-token; do
    [ -x "$BIN_DIR/$bin" ] || { log "$BIN_DIR/$bin is missing: run 'make build' first"; exit 1; }
done

# The token secret: 32 random bytes as 64 hex characters, readable by the owner only.
# Every service (and issue-token) reads it through AUTH_SECRET_FILE; an AUTH_SECRET
# left in the environment would conflict with it (the services take one or the other)
# and sign with another key than the admin token's.
AUTH_SECRET_FILE="$RUN_DIR/auth-secret"
if [ ! -s "$AUTH_SECRET_FILE" ]; then
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$AUTH_SECRET_FILE")
    log "created the token secret $AUTH_SECRET_FILE"
fi
chmod 600 "$AUTH_SECRET_FILE"
unset AUTH_SECRET
export AUTH_SECRET_FILE

# launch NAME CMD...: starts CMD in the background unless NAME already runs.
launch() {
    local name=$1; shift
    if alive "$name"; then
        log "$name already running (pid $(cat "$RUN_DIR/$name.pid"))"
        return
    fi
    # nohup execs the command, so $! is the service's own PID.
    nohup "$@" >>"$RUN_DIR/$name.log" 2>&1 &
    echo $! >"$RUN_DIR/$name.pid"
    log "started $name (pid $!)"
}

common=(--redis-url "$REDIS_URL" --redis-prefix "$REDIS_PREFIX")
launch user-service "$BIN_DIR/user-service" --port "$USER_PORT" \
    --database-url "$PG_URL/${PG_DB_PREFIX}users" "${common[@]}"
launch catalog-service "$BIN_DIR/catalog-service" --port "$CATALOG_PORT" \
    --database-url "$PG_URL/${PG_DB_PREFIX}catalog" "${common[@]}"
launch order-service "$BIN_DIR/order-service" --port "$ORDER_PORT" \
    --database-url "$PG_URL/${PG_DB_PREFIX}orders" "${common[@]}" \
    --user-service-url "$LOCAL:$USER_PORT" --catalog-service-url "$LOCAL:$CATALOG_PORT"
launch order-worker "$BIN_DIR/order-service" worker --metrics-port "$WORKER_PORT" \
    --database-url "$PG_URL/${PG_DB_PREFIX}orders" "${common[@]}"
source "$(dirname "$0")/up-monitoring.sh"

# Wait for every /ready; name the ones that never answer and show their log.
ready_urls=(
    "user-service $LOCAL:$USER_PORT"
    "catalog-service $LOCAL:$CATALOG_PORT"
    "order-service $LOCAL:$ORDER_PORT"
    "order-worker $LOCAL:$WORKER_PORT"
    "${monitoring_urls[@]}"
)
failed=0
for entry in "${ready_urls[@]}"; do
    read -r name url path <<<"$entry"
    path=${path:-/ready}
    for _ in $(seq 1 120); do
        curl -fsS -o /dev/null "$url$path" 2>/dev/null && continue 2
        alive "$name" || break
        sleep 0.5
    done
    log "$name is not ready at $url$path; last lines of $RUN_DIR/$name.log:"
    tail -n 15 "$RUN_DIR/$name.log" >&2 || true
    failed=1
done
[ "$failed" = 0 ] || { log "some parts did not start; 'make down' stops the rest"; exit 1; }

# An admin token for seeding products and for curl; the secret signs it, so it stays
# valid across restarts until it expires.
(umask 077 && "$BIN_DIR/issue-token" --role admin --ttl 12h >"$RUN_DIR/admin-token.tmp")
mv "$RUN_DIR/admin-token.tmp" "$RUN_DIR/admin-token"

printf '\nThe platform is up (logs in %s):\n' "$RUN_DIR"
for entry in "${ready_urls[@]}"; do
    read -r name url _ <<<"$entry"
    printf '  %-18s %s\n' "$name" "$url"
done
printf '\nAn admin token (valid 12 h; make up mints a new one) is in %s:\n' "$RUN_DIR/admin-token"
# shellcheck disable=SC2016 # printed for the reader to run, not expanded here
printf '  export TOKEN=$(cat %s)\n' "$RUN_DIR/admin-token"
# shellcheck disable=SC2016
printf '  curl -s -H "Authorization: Bearer $TOKEN" %s:%s/users | head -c 300; echo\n' "$LOCAL" "$USER_PORT"
printf '\nTry: curl -s %s:%s/products | head -c 300; echo\n' "$LOCAL" "$CATALOG_PORT"
