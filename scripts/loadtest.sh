#!/usr/bin/env bash
# `make loadtest`: a two-minute burst pattern against the platform `make up` started,
# so that the forecasts and scaling decisions move. Extra flags go to the generator.
# It seeds products with the admin token `make up` wrote to $RUN_DIR/admin-token.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

CATALOG_URL=${CATALOG_SERVICE_URL:-http://127.0.0.1:8002}
if ! curl -fsS -o /dev/null "$CATALOG_URL/ready" 2>/dev/null; then
    log "the platform is not running at $CATALOG_URL: start it with 'make up', then run 'make loadtest' again"
    exit 1
fi
if [ ! -s "$RUN_DIR/admin-token" ]; then
    log "no admin token at $RUN_DIR/admin-token: 'make up' writes one (run it again, it leaves running services alone)"
    exit 1
fi
exec "$BIN_DIR/load-generator" burst --base 20 --peak 200 --every 30s --length 12s --duration 2m \
    --seed --admin-token-file "$RUN_DIR/admin-token" --max-error-rate 0.05 "$@"
