#!/usr/bin/env bash
# What each layer of service_kit::http::finish costs: wrk against the same route under
# cumulative stacks (service-kit/examples/layers.rs), one after another. Prints a
# table: the server's CPU time per request (user + system, from /proc, so other work on
# the machine blurs it less than the rate) and what each layer adds to it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
SECS=${BENCH_LAYER_SECONDS:-5}
EXAMPLE="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/layers"
command -v wrk >/dev/null || { log "wrk is not installed (make deps installs it)"; exit 1; }
cargo build --release -q -p service-kit --example layers
PORT=${LAYERS_PORT:-18100}
OUT=$(mktemp)
"$EXAMPLE" --port "$PORT" >"$OUT" 2>/dev/null & PID=$!
trap 'kill $PID 2>/dev/null || true; rm -f "$OUT"' EXIT
for _ in $(seq 1 50); do [ "$(grep -c http "$OUT")" -ge 8 ] && break; sleep 0.1; done
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
printf '| stack (each adds one layer) | req/s | server CPU per request | added by the layer |\n|---|---|---|---|\n'
prev=''
while read -r name url; do
    before=$(cpu_ticks)
    out=$(wrk -t2 -c64 -d"${SECS}s" "$url")
    ticks=$(( $(cpu_ticks) - before ))
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    # Ticks are 1/100 s (USER_HZ).
    us=$(python3 -c "print(round($ticks * 1e4 / $requests, 2))")
    added=$(python3 -c "import sys; p=sys.argv[1]; print('-' if not p else f'{float(sys.argv[2]) - float(p):+.2f} us')" "$prev" "$us")
    printf '| %s | %.0f | %s us | %s |\n' "$name" "$rate" "$us" "$added"
    prev=$us
done <"$OUT"
