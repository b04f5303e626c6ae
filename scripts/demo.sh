#!/usr/bin/env bash
# `make demo`: on the platform `make up` started, a short burst at the catalog, then
# what the platform made of it: forecasts, one scaling decision per service, costs.
# The generator seeds products with the admin token `make up` wrote.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
L=http://127.0.0.1
PREDICTOR=${PREDICTOR_URL:-$L:8004}
COST=${COST_URL:-$L:8005}

log "a 45-second burst at the catalog (the predictor refreshes every 15 s)"
"$BIN_DIR/load-generator" burst --base 20 --peak 250 --every 20s --length 12s --duration 45s \
    --service catalog --seed --seed-products 20 --admin-token-file "$RUN_DIR/admin-token" --quiet || true
sleep 15

show() { python3 -c "$1" "$(curl -fsS "$2")"; }
printf '\nForecasts (GET %s/predict/all)\n' "$PREDICTOR"
show 'import json,sys
row = "  {:18} {:>12} {:>8} {:>7} {:>15}  {}"
print(row.format("service", "predicted %", "upper %", "cores", "model", "fallback"))
f = lambda v: "-" if v is None else "%.1f" % v
for p in json.loads(sys.argv[1]):
    print(row.format(p["service"], f(p["predicted_utilization"]), f(p["upper_utilization"]),
                     f(p["predicted_cores"]), p["model"] or "-", p["fallback_reason"] or "no"))' \
    "$PREDICTOR/predict/all"

for service in user-service catalog-service order-service; do
    printf '\nScaling decision for %s (GET %s/scaling-decision/%s)\n' "$service" "$COST" "$service"
    show 'import json,sys
d = json.loads(sys.argv[1])
print("  %s: %s -> %s replicas, SLO risk %s" % (d["action"], d["current_replicas"], d["recommended_replicas"], d["slo_risk"]))
for r in d["reasoning"]: print("  - " + r)' "$COST/scaling-decision/$service"
done

printf '\nCost analysis (GET %s/cost-analysis/all)\n' "$COST"
curl -fsS "$COST/cost-analysis/all" | python3 -m json.tool | head -40
