#!/usr/bin/env bash
# `make chaos`: builds, then runs the chaos suite (e2e/tests/chaos) alone, with its
# progress on the terminal. The suite starts and stops its own PostgreSQL cluster,
# Redis and shop; this script only makes sure nothing of it outlives the run, even
# when the test process itself is killed (a timeout, Ctrl-C): the suite writes a pid
# file per process and the cluster's data directory under CHAOS_RUN_DIR, and the trap
# below ends those and removes the cluster. The logs stay in the run directory.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

export CHAOS_RUN_DIR=${CHAOS_RUN_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/chaos/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$CHAOS_RUN_DIR"
# The longest the run may take once built: the suite plans about four minutes.
LIMIT=${CHAOS_TIME_LIMIT:-420}

# pg_ctl as the cluster's owner: the postgres user when we are root, as the suite does.
pg_ctl_as_owner() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
    bin=${bin:+$bin/}pg_ctl
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$bin" "$@"; else "$bin" "$@"; fi
}

cleanup() {
    local pidfile name pid datadir
    for pidfile in "$CHAOS_RUN_DIR"/*.pid; do
        [ -e "$pidfile" ] || continue
        name=$(basename "$pidfile" .pid)
        pid=$(cat "$pidfile")
        # Only the process the suite started: a recycled pid runs something else.
        [ "$name" = order-worker ] && name=order-service
        [ "$name" = redis ] && name=redis-server
        if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$name"; then
            kill -KILL "$pid" 2>/dev/null && log "killed leftover $name (pid $pid)"
        fi
        rm -f "$pidfile"
    done
    if [ -f "$CHAOS_RUN_DIR/postgres.datadir" ]; then
        datadir=$(cat "$CHAOS_RUN_DIR/postgres.datadir")
        if [ -f "$datadir/postmaster.pid" ]; then
            pg_ctl_as_owner -D "$datadir" -m immediate stop >/dev/null 2>&1 && log "stopped leftover PostgreSQL"
        fi
        rm -rf "$datadir"
        rm -f "$CHAOS_RUN_DIR/postgres.datadir"
    fi
}
trap cleanup EXIT

if [ -z "${CHAOS_BIN_DIR:-}" ]; then
    log "building (debug)"
    cargo build --workspace --bins
fi
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run -p e2e --test chaos --no-run
    log "running; logs in $CHAOS_RUN_DIR"
    # No backtrace: the failure message names the violated invariants, the code line does not help.
    RUST_BACKTRACE=0 timeout "$LIMIT" cargo nextest run -p e2e --test chaos --no-capture
else
    cargo test -p e2e --test chaos --no-run
    log "running; logs in $CHAOS_RUN_DIR"
    RUST_BACKTRACE=0 timeout "$LIMIT" cargo test -p e2e --test chaos -- --nocapture
fi
