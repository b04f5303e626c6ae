#!/usr/bin/env bash
# Writes the files k8s/secrets/Kustomization turns into Secrets: postgres.env,
# redis.env and auth.env, with random values from /dev/urandom. Not committed
# (.gitignore); a file that exists is kept, never overwritten (PostgreSQL keeps the
# passwords its volume was initialised with).
#
#   make k8s-secrets && kubectl apply -k k8s/secrets
#   bash scripts/k8s-secrets.sh DIR    (writes into DIR, e.g. check-deploy's scratch copy)
set -euo pipefail

cd "$(dirname "$0")/.."
DIR=${1:-k8s/secrets}

# random BYTES: BYTES random bytes as hex: URL-safe, so the passwords go into
# DATABASE_URL and REDIS_URL as they are.
random() { head -c "$1" /dev/urandom | od -An -v -tx1 | tr -d ' \n'; }

# write FILE: the env file from stdin, unless FILE exists.
write() {
    local file=$DIR/$1 tmp
    if [ -e "$file" ]; then
        echo "k8s-secrets: $file exists, kept" >&2
        cat >/dev/null
        return
    fi
    tmp=$(mktemp "$file.XXXXXX")
    cat >"$tmp"
    mv "$tmp" "$file"
    echo "k8s-secrets: wrote $file"
}

umask 077
mkdir -p "$DIR"
write postgres.env <<ENV
POSTGRES_PASSWORD=$(random 24)
USERS_DB_PASSWORD=$(random 24)
CATALOG_DB_PASSWORD=$(random 24)
ORDERS_DB_PASSWORD=$(random 24)
ENV
write redis.env <<ENV
USERS_REDIS_PASSWORD=$(random 24)
CATALOG_REDIS_PASSWORD=$(random 24)
ORDERS_REDIS_PASSWORD=$(random 24)
KEDA_REDIS_USERNAME=keda
KEDA_REDIS_PASSWORD=$(random 24)
ENV
write auth.env <<ENV
AUTH_SECRET=$(random 32)
ENV
