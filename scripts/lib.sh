# Shared by up.sh and down.sh: where state lives and how a process is judged alive.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_DIR=${RUN_DIR:-$ROOT/.run}
BIN_DIR=${BIN_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/release}

log() { echo "$(basename "$0" .sh): $*" >&2; }

# alive NAME: the process recorded in $RUN_DIR/NAME.pid is running.
alive() {
    local pid
    pid=$(cat "$RUN_DIR/$1.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# stop NAME: SIGTERM, wait up to 15 s for the drain, then SIGKILL.
stop() {
    local pid
    alive "$1" || { rm -f "$RUN_DIR/$1.pid"; return 0; }
    pid=$(cat "$RUN_DIR/$1.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        log "$1 (pid $pid) did not stop in 15 s, killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN_DIR/$1.pid"
    log "stopped $1"
}
