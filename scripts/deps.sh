#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis run on loopback, installing Redis (and Prometheus and
# wrk, which later targets need) with apt when missing. A no-op when both already answer.
# PostgreSQL: the preinstalled Debian cluster, password auth over TCP, one database
# per service. Redis: our own daemon with its pid and log under .run/.
set -euo pipefail

cd "$(dirname "$0")/.."
RUN_DIR=${RUN_DIR:-$PWD/.run}
PG_PASSWORD=${PG_PASSWORD:-postgres}
REDIS_PORT=${REDIS_PORT:-6379}
mkdir -p "$RUN_DIR"

log() { echo "deps: $*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_missing() {
    local missing=()
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v prometheus >/dev/null || missing+=(prometheus)
    command -v wrk >/dev/null || missing+=(wrk)  # make bench
    [ ${#missing[@]} -eq 0 ] && return
    log "installing ${missing[*]} with apt"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }

start_postgres() {
    if ! pg_up; then
        local cluster
        cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
        [ -n "$cluster" ] || { log "no PostgreSQL cluster found (pg_lsclusters is empty)"; exit 1; }
        log "starting PostgreSQL cluster $cluster"
        # After an unclean stop PostgreSQL first replays and fsyncs its data directory,
        # which can take minutes on a slow disk: pg_ctl's own 60 s wait is too short.
        # shellcheck disable=SC2086
        as_root pg_ctlcluster $cluster start -- -t "${PG_START_TIMEOUT:-900}"
        for _ in $(seq 1 50); do pg_up && break; sleep 0.2; done
        pg_up || { log "PostgreSQL did not come up on 127.0.0.1:5432"; exit 1; }
        # Remembered so that `make down` stops only what we started.
        echo "$cluster" > "$RUN_DIR/postgres.started"
    fi
    # Password auth over TCP is the cluster's default (scram-sha-256); set ours once.
    if ! PGPASSWORD=$PG_PASSWORD psql -h 127.0.0.1 -U postgres -Atqc 'select 1' >/dev/null 2>&1; then
        log "setting the postgres role's password"
        as_root runuser -u postgres -- psql -qc "ALTER USER postgres PASSWORD '$PG_PASSWORD'"
    fi
    for db in "${PG_DB_PREFIX:-}users" "${PG_DB_PREFIX:-}catalog" "${PG_DB_PREFIX:-}orders"; do
        if [ -z "$(PGPASSWORD=$PG_PASSWORD psql -h 127.0.0.1 -U postgres -Atqc "select 1 from pg_database where datname='$db'")" ]; then
            log "creating database $db"
            PGPASSWORD=$PG_PASSWORD psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
        fi
    done
}

start_redis() {
    if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then return; fi
    log "starting redis on 127.0.0.1:$REDIS_PORT"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
        --pidfile "$RUN_DIR/redis.pid" --logfile "$RUN_DIR/redis.log"
    for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null || { log "redis did not start, see $RUN_DIR/redis.log"; exit 1; }
}

install_missing
start_postgres
start_redis
log "PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:$REDIS_PORT are up"
