#!/usr/bin/env bash
# Checks every deployment and monitoring file offline, with the real tools: the
# Dockerfile, docker-compose.yml, k8s/ (with keda/, gitops/ and secrets/), and
# monitoring/; and that no password, key or token is committed in them.
# No Docker engine, no cluster, no network but the package registries: what the
# tools need is installed on first use (apt for promtool and amtool, a private venv
# for the Python validators, npm for the Argo CD models) and reused afterwards.
# The checks no off-the-shelf tool does are ours, in Rust: the xtask crate
# (`cargo xtask --help`), which holds k8s/ and monitoring/ to config/tiers.json.
# Prints each check; stops with a message at the first failure.
#
#   bash scripts/check-deploy.sh
#
# DEPLOY_TOOLS_DIR  where the venv, npm packages and generated schemas live
#                   (default ~/.cache/predictive-platform/deploy-tools)
# K8S_VERSION       Kubernetes version to validate against (default 1.32)
# CARGO_TARGET_DIR  where xtask is built (default target/)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=${DEPLOY_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/predictive-platform/deploy-tools}
K8S_VERSION=${K8S_VERSION:-1.32}
VENV=$TOOLS/venv
NPM_DIR=$TOOLS/npm
SCHEMAS=$TOOLS/schemas
WORK=$(mktemp -d)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
trap 'rm -rf "$WORK"' EXIT

log() { echo "check-deploy: $*"; }
die() { echo "check-deploy: FAIL: $*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# check DESCRIPTION CMD...: runs CMD quietly, shows its output only when it fails.
check() {
    local what=$1
    shift
    if "$@" >"$WORK/out" 2>&1; then
        echo "  ok: $what"
    else
        sed 's/^/    /' "$WORK/out" >&2
        die "$what"
    fi
}

# xtask CMD ARGS...: our own checks (xtask/, `cargo xtask --help`), which print each
# result. Built once below; a failing check's FAIL: line names the file and field.
XTASK="$CARGO_TARGET_DIR/debug/xtask"
xtask() { "$XTASK" "$@" | sed 's/^/  /'; }

# ---------------------------------------------------------------- install
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

install_apt() {
    local missing=()
    command -v promtool >/dev/null || missing+=(prometheus)
    command -v amtool >/dev/null || missing+=(prometheus-alertmanager)
    command -v node >/dev/null || missing+=(nodejs)
    command -v npm >/dev/null || missing+=(npm)
    python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
    [ ${#missing[@]} -eq 0 ] && return
    log "installing ${missing[*]} with apt"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Reinstalled only when deploy/requirements.txt (or package.json) changes: the
# stamp holds the hash of what was installed.
install_venv() {
    local want
    want=$(hash_of deploy/requirements.txt)
    [ "$(cat "$VENV/.stamp" 2>/dev/null)" = "$want" ] && return
    log "installing the Python validators into $VENV"
    rm -rf "$VENV" "$SCHEMAS"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r deploy/requirements.txt
    echo "$want" >"$VENV/.stamp"
}

install_npm() {
    local want
    want=$(hash_of deploy/package.json deploy/package-lock.json)
    [ "$(cat "$NPM_DIR/.stamp" 2>/dev/null)" = "$want" ] && return
    log "installing the Argo CD and Argo Rollouts models into $NPM_DIR"
    rm -rf "$NPM_DIR" "$SCHEMAS"
    mkdir -p "$NPM_DIR"
    cp deploy/package.json deploy/package-lock.json "$NPM_DIR/"
    (cd "$NPM_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$want" >"$NPM_DIR/.stamp"
}

mkdir -p "$TOOLS"
install_apt
install_venv
install_npm
command -v kubectl >/dev/null || die "kubectl is missing (it ships with this machine image; Debian has no package for it)"
export PATH="$VENV/bin:$PATH"
log "building xtask"
cargo build -q -p xtask || die "cargo build -p xtask"

# ---------------------------------------------------------------- containers
log "containers"
# Every finding fails, warnings and style included.
check "hadolint Dockerfile" hadolint --failure-threshold style Dockerfile
check "docker-compose.yml against the compose specification" \
    check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
missing_mounts=$(grep -oE '\./monitoring/[A-Za-z0-9_./-]+' docker-compose.yml | while read -r p; do [ -e "$p" ] || echo "$p"; done)
[ -z "$missing_mounts" ] || die "docker-compose.yml mounts paths that do not exist: $missing_mounts"
echo "  ok: docker-compose.yml bind mounts exist"

# ---------------------------------------------------------------- monitoring
log "monitoring"
for cfg in monitoring/prometheus/prometheus.yml monitoring/prometheus/prometheus.native.yml; do
    check "promtool check config $cfg (with its rule files)" promtool check config "$cfg"
done
# Debian's promtool lacks Kubernetes service discovery: xtask checks those
# blocks and hands promtool a copy with static targets in their place.
xtask prom-k8s-config monitoring/prometheus/prometheus.k8s.yml "$WORK/prometheus.k8s.yml"
check "promtool check config monitoring/prometheus/prometheus.k8s.yml (SD blocks replaced)" \
    promtool check config "$WORK/prometheus.k8s.yml"
check "promtool check rules" promtool check rules monitoring/prometheus/rules/*.yml
for t in monitoring/prometheus/tests/*.yml; do
    check "promtool test rules $t" promtool test rules "$t"
done
check "amtool check-config monitoring/alertmanager/alertmanager.yml" \
    amtool check-config monitoring/alertmanager/alertmanager.yml
xtask dashboards
xtask adapter-drift

# ---------------------------------------------------------------- kubernetes
log "kubernetes (schemas of Kubernetes $K8S_VERSION, strict about unknown fields)"
check "kubectl kustomize k8s" sh -c 'kubectl kustomize k8s >"$1"' _ "$WORK/k8s.yaml"
# The Secrets come from k8s/secrets/, whose value files are never committed: render
# it from a scratch copy with throwaway values, as `make k8s-secrets` writes them.
mkdir -p "$WORK/secrets"
cp k8s/secrets/Kustomization "$WORK/secrets/"
bash scripts/k8s-secrets.sh "$WORK/secrets" >/dev/null
check "kubectl kustomize k8s/secrets (throwaway values)" \
    sh -c 'kubectl kustomize "$1" >"$2"' _ "$WORK/secrets" "$WORK/secrets.yaml"
xtask apply-f-layout
# What Argo CD applies: k8s/ with the Application's kustomize patches.
xtask argo-overlay "$WORK/argocd"
check "kubectl kustomize (k8s/ as the Argo CD Application renders it)" \
    sh -c 'kubectl kustomize "$1" >"$2"' _ "$WORK/argocd" "$WORK/argocd.yaml"
KEDA_FILES=(k8s/keda/*.yaml)
GITOPS_FILES=(k8s/gitops/*.yaml k8s/gitops/canary/*.yaml)
# kubernetes-validate checks the built-in kinds and only warns about custom
# resources; those are checked against their CRD schemas below.
# One call for all files: most of its time is loading the schemas.
check "kubernetes-validate --strict: kustomize output, Argo CD view, secrets, keda/, gitops/" \
    kubernetes-validate --strict -k "$K8S_VERSION" --quiet \
    "$WORK/k8s.yaml" "$WORK/argocd.yaml" "$WORK/secrets.yaml" "${KEDA_FILES[@]}" "${GITOPS_FILES[@]}"
# The CRD schemas come from the KEDA (pydantic) and Argo Rollouts (npm) models, so
# this one check stays in Python; xtask hands it the resources as JSON lines.
"$XTASK" crd-json "${KEDA_FILES[@]}" "${GITOPS_FILES[@]}" >"$WORK/crd.jsonl"
"$VENV/bin/python" deploy/crd_schemas.py "$SCHEMAS" "$NPM_DIR/node_modules" <"$WORK/crd.jsonl" | sed 's/^/  /'
"$XTASK" argocd-json "${GITOPS_FILES[@]}" >"$WORK/argocd.jsonl"
NODE_PATH="$NPM_DIR/node_modules" node deploy/validate-argocd.js <"$WORK/argocd.jsonl" | sed 's/^/  /' \
    || die "Argo CD resources do not match the Argo CD models"
# One autoscaler per workload, both on a plain cluster with KEDA and under Argo CD.
xtask autoscaling-conflicts "$WORK/k8s.yaml" "${KEDA_FILES[@]}"
xtask autoscaling-conflicts "$WORK/argocd.yaml" "${KEDA_FILES[@]}" "${GITOPS_FILES[@]}"
# Requests, HPA bounds and the tier recording rules against config/tiers.json, the
# one place tiers and policies are written (cost-optimizer compiles it in).
xtask tiers "$WORK/k8s.yaml"
# The HPA behaviour `cost-optimizer simulate` replays is config/hpa-behavior.json:
# every HPA must use exactly that, and read the forecast as predicted_cpu_cores
# with an AverageValue target (a Value target is discounted by unready pods).
xtask hpa-behavior "kubectl kustomize k8s=$WORK/k8s.yaml" "k8s as Argo CD renders it=$WORK/argocd.yaml"

# No literal password, key or token in docker-compose.yml or k8s/ (they come from
# .env and k8s/secrets/, both generated and ignored by git); every Secret key the
# manifests read is one k8s/secrets/ generates.
xtask secrets --generated "$WORK/secrets.yaml" \
    "$WORK/k8s.yaml" "$WORK/argocd.yaml" "${KEDA_FILES[@]}" "${GITOPS_FILES[@]}"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    committed=$(git ls-files -- .env 'k8s/secrets/*.env')
    [ -z "$committed" ] || die "generated secrets are committed: $committed (git rm --cached them)"
    echo "  ok: .env and k8s/secrets/*.env are not committed"
fi

# ---------------------------------------------------------------- metric names
log "metric names (dashboards, rules, adapter rules, HPAs, ScaledObjects, analyses)"
xtask metric-names "$WORK/k8s.yaml" "${KEDA_FILES[@]}" "${GITOPS_FILES[@]}"

log "all deployment checks passed"
