# syntax=docker/dockerfile:1
#
# One Dockerfile for every service, chosen with the build argument SERVICE:
#   docker build --build-arg SERVICE=order-service -t order-service .
#
# Why one shared file rather than one per crate: the services are one Cargo workspace
# with one Cargo.lock, so their dependency graphs are nearly the same. With cargo-chef
# the dependencies of the whole workspace are compiled in a layer that does not depend
# on SERVICE, so building the five images compiles them once and the later four reuse
# the cached layer; five Dockerfiles would each carry (and drift from) the same steps.
# The order worker is the order-service image started with the `worker` subcommand.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS chef
# Pinned so that the recipe format, and therefore the cache key, does not change under us.
RUN cargo install cargo-chef --version 0.1.78 --locked
WORKDIR /app

# The recipe lists only manifests and lockfile: it changes when dependencies change,
# not when source does, which is what makes the next stage's layer cacheable.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --locked --workspace --recipe-path recipe.json
COPY . .
# SERVICE is declared only here, after the dependency layer, so that layer is shared.
# The user-service image also holds issue-token, which mints admin tokens with the
# container's secret: `docker compose exec user-service issue-token --role admin`.
ARG SERVICE
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<crate>" >&2; exit 1; } \
    && cargo build --release --locked --bin "${SERVICE}" \
    && mkdir -p /out && cp "target/release/${SERVICE}" /out/service \
    && if [ "${SERVICE}" = user-service ]; then \
        cargo build --release --locked --bin issue-token && cp target/release/issue-token /out/; fi

# Debian slim matches the builder's glibc; curl is there for the health check only.
FROM debian:bookworm-slim AS runtime
ARG SERVICE
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app
# The health check needs the service's default port; record it at build time so that
# one HEALTHCHECK line serves every image (PORT or HEALTH_PORT override it at run time,
# e.g. HEALTH_PORT=9103 for the order worker's metrics server).
RUN case "${SERVICE}" in \
        user-service) port=8001 ;; \
        catalog-service) port=8002 ;; \
        order-service) port=8003 ;; \
        predictor-service) port=8004 ;; \
        cost-optimizer) port=8005 ;; \
        *) echo "unknown SERVICE '${SERVICE}'" >&2; exit 1 ;; \
    esac \
    && echo "${port}" > /etc/service-port
COPY --from=builder /out/ /usr/local/bin/
# Containers must listen on all interfaces; the binaries default to loopback for
# the native run. JSON logs are what log collectors parse.
ENV HOST=0.0.0.0 \
    LOG_FORMAT=json
# A numeric uid lets Kubernetes verify runAsNonRoot without reading /etc/passwd.
USER 10001:10001
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["/bin/sh", "-c", "curl -fsS \"http://127.0.0.1:${HEALTH_PORT:-${PORT:-$(cat /etc/service-port)}}/health\" || exit 1"]
ENTRYPOINT ["/usr/local/bin/service"]
