#!/usr/bin/env bash
# `make bench`: starts a platform of its own (own ports, databases and Redis prefix),
# measures it with the load generator (release build) and prints one table. Every
# figure is from this run on this machine; BENCHMARKS.md records one run.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
LG="$BIN_DIR/load-generator"
SECS=${BENCH_SECONDS:-10}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# field FILE EXPR: a value from a generator JSON summary, e.g. "total.rate".
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[k]
print(round(d, 2) if isinstance(d, float) else d)' "$1" "$2"; }

export RUN_DIR="$ROOT/.run/bench" PG_DB_PREFIX=bench_ REDIS_PREFIX=bench:
export USER_PORT=$(free_port) CATALOG_PORT=$(free_port) ORDER_PORT=$(free_port) PREDICTOR_PORT=$(free_port)
export COST_PORT=$(free_port) WORKER_PORT=$(free_port) PROMETHEUS_PORT=$(free_port)
RUN_DIR='' bash "$ROOT/scripts/deps.sh"
trap 'bash "$ROOT/scripts/down.sh" >/dev/null 2>&1 || true; kill "${TARGET_PID:-}" 2>/dev/null || true' EXIT
bash "$ROOT/scripts/up.sh" >/dev/null
L=http://127.0.0.1
OUT="$RUN_DIR/out"; mkdir -p "$OUT"
gen() { local name=$1; shift; "$LG" "$@" --duration "${SECS}s" --quiet --json "$OUT/$name.json" >/dev/null; }

log "1/5 catalog GET /products/{id} (cached): saturation, then p99 at half that rate"
product=$(curl -fsS -XPOST "$L:$CATALOG_PORT/products" -H 'content-type: application/json' \
    -d '{"sku":"BENCH-'"$RANDOM$RANDOM"'","name":"bench","category":"bench","price_cents":100,"stock":1000000}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
gen product-sat steady --rps 20000 --max-in-flight 256 --url "$L:$CATALOG_PORT/products/$product"
product_rate=$(field "$OUT/product-sat.json" total.rate)
half=$(python3 -c "print(max(1, int($product_rate / 2)))")
gen product-half steady --rps "$half" --max-in-flight 256 --url "$L:$CATALOG_PORT/products/$product"

log "2/5 order creation with the worker running"
export USER_SERVICE_URL="$L:$USER_PORT" CATALOG_SERVICE_URL="$L:$CATALOG_PORT" ORDER_SERVICE_URL="$L:$ORDER_PORT"
gen orders steady --rps 2000 --max-in-flight 256 --weights order=100 --seed --seed-products 20
orders_rate=$(python3 -c "import json; d=json.load(open('$OUT/orders.json')); print(round(d['orders']['created']/d['elapsed_secs'], 1))")

log "3/5 the generator's own ceiling against a trivial endpoint"
"$LG" bench-target --addr 127.0.0.1:0 >"$OUT/target.txt" & TARGET_PID=$!
for _ in $(seq 1 50); do grep -q listening "$OUT/target.txt" && break; sleep 0.1; done
target=$(grep -o 'http://[0-9.:]*/' "$OUT/target.txt")
gen trivial steady --rps 20000 --max-in-flight 256 --url "$target"
trivial_rate=$(field "$OUT/trivial.json" total.rate)
wrk_rate="(wrk not installed)"
wrk_product="(wrk not installed)"
if command -v wrk >/dev/null; then
    wrk_rate=$(wrk -t2 -c64 -d"${SECS}s" "$target" | awk '/Requests\/sec/ {print $2}')
    # The generator saturates before a fast endpoint does; wrk shows the endpoint's own limit.
    wrk_product=$(wrk -t2 -c64 -d"${SECS}s" "$L:$CATALOG_PORT/products/$product" | awk '/Requests\/sec/ {print $2}')
fi

log "4/5 predictor: /predict p99 at 1,000 rps"
gen predict steady --rps 1000 --max-in-flight 256 --url "$L:$PREDICTOR_PORT/predict/catalog-service"

log "5/5 predictor: train and select models for 1,000 series of one week at one-minute steps"
bench=$("$BIN_DIR/predictor-service" bench --series 1000 --points 10080 --step 60s)
training=$(grep -o 'in [0-9.]* s' <<<"$bench" | head -1)
peak=$(grep -o '[0-9.]* ms per refresh' <<<"$bench" | head -1)

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)
printf '\nmake bench on %s cores (%s), %ss per run, release build\n\n' "$(nproc)" "$cpu" "$SECS"
printf '| measurement | result |\n|---|---|\n'
printf '| catalog GET /products/{id} (cached), saturation | %s req/s (p99 %s ms) |\n' "$product_rate" "$(field "$OUT/product-sat.json" total.p99_ms)"
printf '| catalog GET /products/{id} at half that rate (%s req/s) | p99 %s ms, errors %s |\n' "$half" "$(field "$OUT/product-half.json" total.p99_ms)" "$(field "$OUT/product-half.json" total.errors)"
printf '| order creation with the worker running | %s orders/s (p99 %s ms) |\n' "$orders_rate" "$(field "$OUT/orders.json" total.p99_ms)"
printf '| generator ceiling, trivial axum endpoint | %s req/s |\n' "$trivial_rate"
printf '| wrk -t2 -c64, same endpoint | %s req/s |\n' "$wrk_rate"
printf '| wrk -t2 -c64, catalog GET /products/{id} | %s req/s |\n' "$wrk_product"
printf '| ratio catalog / trivial endpoint, generator (tracked) | %s |\n' "$(python3 -c "print(round($product_rate / $trivial_rate, 3))")"
if [[ $wrk_rate =~ ^[0-9.]+$ && $wrk_product =~ ^[0-9.]+$ ]]; then
    printf '| ratio catalog / trivial endpoint, wrk | %s |\n' "$(python3 -c "print(round($wrk_product / $wrk_rate, 3))")"
fi
printf '| predictor /predict at 1,000 req/s | p99 %s ms, errors %s |\n' "$(field "$OUT/predict.json" total.p99_ms)" "$(field "$OUT/predict.json" total.errors)"
printf '| predictor training, 1,000 series x 10,080 points | %s |\n' "${training#in }"
printf '| predictor peak forecaster, rebuilt from a week of 15 s samples | %s |\n' "$peak"
