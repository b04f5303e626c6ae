#!/usr/bin/env bash
# `make bench`: starts a platform of its own (own ports, databases and Redis prefix),
# measures it with wrk and the load generator (release build) and prints one table,
# ratios side by side. Every figure is from this run on this machine; BENCHMARKS.md
# records one run.
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
calc() { python3 -c "print($1)"; }
# wrk_rate URL: requests per second of wrk with 2 threads and 64 connections.
wrk_rate() { wrk -t2 -c64 -d"${SECS}s" "$1" | awk '/Requests\/sec/ {printf "%.0f", $2}'; }
# wrk_cost URL PID [WRK ARGS...]: "rate cpu": wrk's rate and the server's CPU time per
# request in us (user + system from /proc, in 1/100 s ticks), which the sharing of the
# two cores between wrk and the server blurs less than the rate.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wrk_cost() {
    local before out
    before=$(ticks "$2")
    out=$(wrk -t2 -c64 -d"${SECS}s" "${@:3}" "$1")
    # A refused token would be measured as fast 401s: say so rather than print a rate.
    if grep -q 'Non-2xx' <<<"$out"; then log "WARNING: $1 answered errors: $(grep 'Non-2xx' <<<"$out" | xargs)"; fi
    echo "$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")" \
        "$(calc "round(($(ticks "$2") - $before) * 1e4 / $(awk '/requests in/ {print $1}' <<<"$out"), 2)")"
}
# post URL JSON [CURL ARGS...] and post_field FIELD URL JSON [CURL ARGS...]: the id (or
# FIELD) of what a POST answered.
post_field() { curl -fsS -XPOST "$2" -H 'content-type: application/json' -d "$3" "${@:4}" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
post() { post_field id "$@"; }

export RUN_DIR="$ROOT/.run/bench" PG_DB_PREFIX=bench_ REDIS_PREFIX=bench:
export USER_PORT=$(free_port) CATALOG_PORT=$(free_port) ORDER_PORT=$(free_port) PREDICTOR_PORT=$(free_port)
export COST_PORT=$(free_port) WORKER_PORT=$(free_port) PROMETHEUS_PORT=$(free_port)
RUN_DIR='' bash "$ROOT/scripts/deps.sh"
trap 'bash "$ROOT/scripts/down.sh" >/dev/null 2>&1 || true; kill "${TARGET_PID:-}" 2>/dev/null || true' EXIT
bash "$ROOT/scripts/up.sh" >/dev/null
L=http://127.0.0.1
OUT="$RUN_DIR/out"; mkdir -p "$OUT"
gen() { local name=$1; shift; "$LG" "$@" --duration "${SECS}s" --quiet --json "$OUT/$name.json" >/dev/null; }
# up.sh wrote the admin token (product writes); the user GET is measured with the user's own.
ADMIN_AUTH="Authorization: Bearer $(cat "$RUN_DIR/admin-token")"

log "1/7 a trivial axum handler: wrk, then the generator, same target"
"$LG" bench-target --addr 127.0.0.1:0 >"$OUT/target.txt" & TARGET_PID=$!
for _ in $(seq 1 50); do grep -q listening "$OUT/target.txt" && break; sleep 0.1; done
target=$(grep -o 'http://[0-9.:]*/' "$OUT/target.txt")
read -r trivial_before trivial_cpu < <(wrk_cost "$target" "$TARGET_PID")
gen trivial steady --rps 200000 --max-in-flight 64 --url "$target"
generator=$(field "$OUT/trivial.json" total.rate)

log "2/7 cached reads: catalog GET /products/{id} and user GET /users/{id} (with the user's token) with wrk"
product=$(post "$L:$CATALOG_PORT/products" '{"sku":"BENCH-'"$RANDOM$RANDOM"'","name":"bench","category":"bench","price_cents":100,"stock":1000000}' -H "$ADMIN_AUTH")
email="bench-$RANDOM$RANDOM@example.org"
user=$(post "$L:$USER_PORT/users" '{"email":"'"$email"'","name":"Bench","password":"bench-password"}')
user_token=$(post_field access_token "$L:$USER_PORT/auth/token" '{"email":"'"$email"'","password":"bench-password"}')
read -r product_rate product_cpu < <(wrk_cost "$L:$CATALOG_PORT/products/$product" "$(cat "$RUN_DIR/catalog-service.pid")")
read -r user_rate user_cpu < <(wrk_cost "$L:$USER_PORT/users/$user" "$(cat "$RUN_DIR/user-service.pid")" \
    -H "Authorization: Bearer $user_token")
# The trivial rate moves between runs on two shared cores: measured again after the
# services, the higher of the two is the reference (the ratios err low, not high).
trivial_after=$(wrk_rate "$target")
trivial=$(calc "max($trivial_before, $trivial_after)")
kill "$TARGET_PID"; TARGET_PID=''

log "3/7 catalog GET p99 at half its wrk rate, open loop"
half=$(calc "max(1, int($product_rate / 2))")
gen product-half steady --rps "$half" --max-in-flight 256 --url "$L:$CATALOG_PORT/products/$product"

log "4/7 order creation with the worker stopped (the API path alone)"
stop order-worker >/dev/null 2>&1
export USER_SERVICE_URL="$L:$USER_PORT" CATALOG_SERVICE_URL="$L:$CATALOG_PORT" ORDER_SERVICE_URL="$L:$ORDER_PORT"
gen orders steady --rps 2000 --max-in-flight 256 --weights order=100 --seed --seed-products 20 \
    --admin-token-file "$RUN_DIR/admin-token"
orders_rate=$(calc "round($(field "$OUT/orders.json" orders.created) / $(field "$OUT/orders.json" elapsed_secs), 1)")

log "5/7 predictor: /predict p99 at 1,000 rps"
gen predict steady --rps 1000 --max-in-flight 256 --url "$L:$PREDICTOR_PORT/predict/catalog-service"

log "6/7 predictor: train and select models for 1,000 series of one week at one-minute steps"
bench=$("$BIN_DIR/predictor-service" bench --series 1000 --points 10080 --step 60s)
training=$(grep -o 'in [0-9.]* s' <<<"$bench" | head -1)
peak=$(grep -o '[0-9.]* ms per refresh' <<<"$bench" | head -1)

log "7/7 what each layer of the HTTP stack costs"
layers=$(bash "$ROOT/scripts/bench-layers.sh")

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)
printf '\nmake bench on %s cores (%s), %ss per run, release build\n\n' "$(nproc)" "$cpu" "$SECS"
printf '| measurement | result | ratio | goal |\n|---|---|---|---|\n'
printf '| trivial axum handler, wrk -t2 -c64 (before / after the services) | %s / %s req/s, %s us CPU per request | 1 | |\n' "$trivial_before" "$trivial_after" "$trivial_cpu"
printf '| catalog GET /products/{id} (cached), wrk | %s req/s, %s us CPU per request | %s of trivial (by CPU per request: %s) | 0.6 |\n' "$product_rate" "$product_cpu" "$(calc "round($product_rate / $trivial, 2)")" "$(calc "round($trivial_cpu / $product_cpu, 2)")"
printf '| user GET /users/{id} (cached, with a customer token), wrk | %s req/s, %s us CPU per request | %s of trivial (by CPU per request: %s) | 0.6 |\n' "$user_rate" "$user_cpu" "$(calc "round($user_rate / $trivial, 2)")" "$(calc "round($trivial_cpu / $user_cpu, 2)")"
printf '| load generator, trivial handler | %s req/s | %s of wrk | 0.9 |\n' "$generator" "$(calc "round($generator / $trivial_before, 2)")"
printf '| catalog GET at %s req/s (half), generator | p99 %s ms, errors %s | | |\n' "$half" "$(field "$OUT/product-half.json" total.p99_ms)" "$(field "$OUT/product-half.json" total.errors)"
printf '| POST /orders, worker stopped, 2,000 req/s offered | %s orders/s, p99 %s ms | | |\n' "$orders_rate" "$(field "$OUT/orders.json" total.p99_ms)"
printf '| predictor /predict at 1,000 req/s | p99 %s ms, errors %s | | 5 ms |\n' "$(field "$OUT/predict.json" total.p99_ms)" "$(field "$OUT/predict.json" total.errors)"
printf '| predictor training, 1,000 series x 10,080 points | %s | | 60 s |\n' "${training#in }"
printf '| predictor peak forecaster, rebuilt from a week of 15 s samples | %s | | |\n' "$peak"
printf '\nThe HTTP stack, layer by layer (scripts/bench-layers.sh):\n\n%s\n' "$layers"
