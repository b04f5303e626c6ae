# Sourced by up.sh: the predictor, the cost optimizer and Prometheus, which scrapes
# everything with monitoring/prometheus/prometheus.native.yml, rendered into the run
# directory with this run's ports (and SCRAPE_INTERVAL, when set).
# shellcheck shell=bash

PROMETHEUS_URL="$LOCAL:$PROMETHEUS_PORT"
launch predictor-service "$BIN_DIR/predictor-service" serve --port "$PREDICTOR_PORT" \
    --prometheus-url "$PROMETHEUS_URL"
# Natively each service is one process: a policy minimum of 2 replicas (as on
# Kubernetes) would make every decision a scale-up.
launch cost-optimizer "$BIN_DIR/cost-optimizer" serve --port "$COST_PORT" \
    --prometheus-url "$PROMETHEUS_URL" --predictor-url "$LOCAL:$PREDICTOR_PORT" \
    --pricing-file "${COST_PRICING_FILE:-$ROOT/config/native-cost-policy.json}"

render_prometheus_config() {
    local src="$ROOT/monitoring/prometheus/prometheus.native.yml"
    sed -e "s#127.0.0.1:8001#127.0.0.1:$USER_PORT#; s#127.0.0.1:8002#127.0.0.1:$CATALOG_PORT#" \
        -e "s#127.0.0.1:8003#127.0.0.1:$ORDER_PORT#; s#127.0.0.1:9103#127.0.0.1:$WORKER_PORT#" \
        -e "s#127.0.0.1:8004#127.0.0.1:$PREDICTOR_PORT#; s#127.0.0.1:8005#127.0.0.1:$COST_PORT#" \
        -e "s#127.0.0.1:9090#127.0.0.1:$PROMETHEUS_PORT#" \
        -e "s#- rules/#- $ROOT/monitoring/prometheus/rules/#" \
        -e "s#^\(  scrape_interval:\).*#\1 ${SCRAPE_INTERVAL:-15s}#" \
        -e "s#^\(  evaluation_interval:\).*#\1 ${SCRAPE_INTERVAL:-15s}#" \
        "$src" >"$RUN_DIR/prometheus.yml"
}

if ! alive prometheus; then
    command -v prometheus >/dev/null || { log "prometheus is not installed: run scripts/deps.sh"; exit 1; }
    render_prometheus_config
    promtool check config "$RUN_DIR/prometheus.yml" >/dev/null || { log "rendered Prometheus config is invalid"; exit 1; }
fi
launch prometheus prometheus --config.file="$RUN_DIR/prometheus.yml" \
    --storage.tsdb.path="$RUN_DIR/prometheus-data" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --web.enable-lifecycle

monitoring_urls=(
    "predictor-service $LOCAL:$PREDICTOR_PORT"
    "cost-optimizer $LOCAL:$COST_PORT"
    "prometheus $PROMETHEUS_URL /-/ready"
)
