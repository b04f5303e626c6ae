#!/usr/bin/env bash
# Fuzzes every service against its own contract (/openapi.json) with schemathesis, on a
# platform of its own: free loopback ports, its own run directory, database prefix and
# Redis prefix, so it runs beside `make up` and the e2e test. Authenticated with the
# admin token up.sh writes ($RUN_DIR/admin-token), a fixed number of examples per
# operation and a fixed seed. Fails on any 5xx, any response that does not match the
# schema, any status or content type the contract does not list.
#
# CONTRACT_SERVICES picks services (default: all five); CONTRACT_MAX_EXAMPLES and
# CONTRACT_SEED change the run. The figures go to stdout, schemathesis's own reports
# (JSON, HAR) to $RUN_DIR/reports/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
ID=$(date +%s)-$$
export RUN_DIR=${CONTRACT_RUN_DIR:-$TARGET/contract/$ID}
export BIN_DIR=$RUN_DIR/bin
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

SCHEMATHESIS_VERSION=4.32.5
VENV=${SCHEMATHESIS_VENV:-$HOME/.cache/predictive-platform/schemathesis}
# 100 per operation: the five services have about 40 operations, and each example is
# fast; the whole stage stays well under three minutes on two cores.
MAX_EXAMPLES=${CONTRACT_MAX_EXAMPLES:-100}
SEED=${CONTRACT_SEED:-20261129}
SERVICES=${CONTRACT_SERVICES:-user-service catalog-service order-service predictor-service cost-optimizer}
CHECKS=not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance

# A venv of our own, created once: schemathesis pins its dependencies, which must not
# meet the system's Python packages.
ensure_schemathesis() {
    if "$VENV/bin/st" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then return; fi
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        log "installing python3-venv with apt"
        local sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    fi
    log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

PG_URL=${PG_URL:-postgres://postgres:postgres@127.0.0.1:5432}
export PG_DB_PREFIX=contract_${ID//-/_}_
export REDIS_PREFIX=contract:$ID:
cleanup() {
    local rc=$?
    bash "$ROOT/scripts/down.sh" || true
    # The reports and logs stay; the copies of the binaries and Prometheus's data go.
    rm -rf "$BIN_DIR" "$RUN_DIR/prometheus-data"
    for db in users catalog orders; do
        psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$PG_DB_PREFIX$db\" WITH (FORCE)" \
            || log "could not drop database $PG_DB_PREFIX$db"
    done
    exit "$rc"
}

ensure_schemathesis
mkdir -p "$BIN_DIR" "$RUN_DIR/reports"

# The binaries of this tree, copied: the target directory may be shared, and another
# build must not swap a binary under a running platform.
log "building the services"
(cd "$ROOT" && cargo build --quiet --workspace --bins)
for bin in user-service catalog-service order-service predictor-service cost-optimizer issue-token; do
    if [ -x "$TARGET/debug/$bin" ]; then cp "$TARGET/debug/$bin" "$BIN_DIR/"; fi
done

export USER_PORT CATALOG_PORT ORDER_PORT PREDICTOR_PORT COST_PORT WORKER_PORT PROMETHEUS_PORT
USER_PORT=$(free_port) CATALOG_PORT=$(free_port) ORDER_PORT=$(free_port)
PREDICTOR_PORT=$(free_port) COST_PORT=$(free_port) WORKER_PORT=$(free_port)
PROMETHEUS_PORT=$(free_port)
# Scraped often, so that the predictor and the cost optimizer have usage to answer with.
export SCRAPE_INTERVAL=2s PREDICTOR_STEP=2s PREDICTOR_RECENT=1h PREDICTOR_REFRESH=2s

# PostgreSQL and Redis are shared (deps.sh's own run directory); the databases are ours.
trap cleanup EXIT
RUN_DIR="" bash "$ROOT/scripts/deps.sh"
bash "$ROOT/scripts/up.sh" >"$RUN_DIR/up.log" 2>&1 || {
    cat "$RUN_DIR/up.log" >&2
    log "the platform did not come up"
    exit 1
}

auth=()
if [ -s "$RUN_DIR/admin-token" ]; then
    auth=(--header "Authorization: Bearer $(cat "$RUN_DIR/admin-token")")
else
    log "no $RUN_DIR/admin-token: fuzzing without a token"
fi

port_of() {
    case $1 in
        user-service) echo "$USER_PORT" ;; catalog-service) echo "$CATALOG_PORT" ;;
        order-service) echo "$ORDER_PORT" ;; predictor-service) echo "$PREDICTOR_PORT" ;;
        cost-optimizer) echo "$COST_PORT" ;;
        *) log "unknown service $1"; exit 2 ;;
    esac
}

# Give the predictor and the cost optimizer a few scrapes of usage first.
sleep "${CONTRACT_WARMUP_SECONDS:-10}"

failed=0
rows=()
for service in $SERVICES; do
    url="http://127.0.0.1:$(port_of "$service")/openapi.json"
    out=$RUN_DIR/reports/$service
    mkdir -p "$out"
    if ! curl -fsS -o "$out/openapi.json" "$url"; then
        log "$service serves no contract at $url"
        rows+=("$(printf '%-18s %11s %9s %9s' "$service" "-" "-" "no contract")")
        failed=1
        continue
    fi
    log "fuzzing $service ($url)"
    for attempt in 1 2; do
        rc=0
        rm -f "$out"/json-*.json "$out"/har-*.json
        # From the report directory: schemathesis keeps a cache (.schemathesis/) in its cwd.
        # One worker: with two threads, schemathesis itself once crashed in a CI run with
        # CPython's spurious "AST constructor recursion depth mismatch" (gh-106905, seen in
        # threaded programs). Such a crash of the tool (an "error" in its report, not a
        # failed check) gets one more run; a failed check never does.
        (cd "$out" && "$VENV/bin/st" run "$url" "${auth[@]}" \
            --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" --seed "$SEED" \
            --generation-database none --no-color --workers 1 --request-timeout 20 \
            --report json,har --report-dir "$out" >"$out/st.log" 2>&1) || rc=$?
        figures=$(python3 - "$out" <<'EOF'
import glob, json, sys
out = sys.argv[1]
report = json.load(open(glob.glob(f"{out}/json-*.json")[0]))
har = json.load(open(glob.glob(f"{out}/har-*.json")[0]))
ops = report["operations"]
failures = sum(f["count"] for f in report["failures"])
print(ops["tested"], ops["selected"], len(har["log"]["entries"]), failures + len(report["errors"]), failures)
EOF
) || figures="0 0 0 unknown unknown"
        read -r tested selected requests failures checks_failed <<<"$figures"
        if [ "$attempt" = 1 ] && [ "$checks_failed" = 0 ] && [ "$failures" != 0 ]; then
            log "$service: schemathesis itself crashed ($(grep -m1 -oE '[A-Za-z]+Error: .{0,80}' "$out/st.log" || echo 'see st.log')); running it once more"
            mv "$out/st.log" "$out/st-crashed.log"
            continue
        fi
        break
    done
    rows+=("$(printf '%-18s %5s/%-5s %9s %9s' "$service" "$tested" "$selected" "$requests" "$failures")")
    if [ "$rc" != 0 ] || [ "$failures" != 0 ]; then
        failed=1
        log "$service: failures (exit $rc); schemathesis's output:"
        if grep -qE '^=+ (FAILURES|ERRORS) =+$' "$out/st.log"; then
            sed -nE '/^=+ (FAILURES|ERRORS) =+$/,$p' "$out/st.log" >&2
        else
            tail -n 30 "$out/st.log" >&2
        fi
    fi
done

printf '\nContract fuzzing: %s examples per operation, seed %s, reports in %s/reports\n' \
    "$MAX_EXAMPLES" "$SEED" "$RUN_DIR"
printf '%-18s %11s %9s %9s\n' service operations requests failures
printf '%s\n' "${rows[@]}"
[ "$failed" = 0 ] || { log "the contract does not hold"; exit 1; }
