//! The HTTP shell every service shares: common flags, the standard routes (`/health`,
//! `/ready`, `/metrics`), and the layers around the service's own routes.
//!
//! Layer order, outermost first: the request context (request id, span, timeout), the
//! body limit, then the routes with the metrics middleware.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::http::HeaderValue;
use axum::middleware;
use axum::routing::get;

use crate::telemetry::LogFormat;
use crate::{Problem, Readiness, metrics};

pub use crate::request_context::REQUEST_ID;

/// Flags shared by every service.
#[derive(Debug, Clone, clap::Args)]
pub struct HttpArgs {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Longest time a request may take before it is answered with 503.
    #[arg(
        long,
        env = "REQUEST_TIMEOUT",
        default_value = "10s",
        value_parser = crate::duration::positive
    )]
    pub request_timeout: Duration,
    /// Largest request body accepted, in bytes (413 above).
    #[arg(long, env = "BODY_LIMIT_BYTES", default_value_t = 64 * 1024)]
    pub body_limit_bytes: usize,
}

impl Default for HttpArgs {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            log_format: LogFormat::Text,
            request_timeout: Duration::from_secs(10),
            body_limit_bytes: 64 * 1024,
        }
    }
}

/// The layers [`finish`] puts around a service's routes, innermost first. Each
/// includes the ones before it; [`finish_upto`] stops at one so that
/// `examples/layers.rs` can measure what each costs per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Layer {
    /// The routes, the standard routes and the problem+json fallbacks, nothing else.
    Routes,
    /// Request counter and latency histogram by method, route and status.
    Metrics,
    /// The request body limit (413 above it).
    BodyLimit,
    /// Request id, tracing span, timeout and the id on the response
    /// ([`crate::request_context`]): every layer.
    Context,
}

/// Wraps a service's routes with the standard routes and layers.
pub fn finish(service: &'static str, routes: Router, readiness: Readiness, args: &HttpArgs) -> Router {
    finish_upto(service, routes, readiness, args, Layer::Context)
}

/// [`finish`] with the layers up to and including `upto` only.
pub fn finish_upto(
    service: &'static str,
    routes: Router,
    readiness: Readiness,
    args: &HttpArgs,
    upto: Layer,
) -> Router {
    // Counters recorded before a recorder exists are lost: install it now.
    metrics::recorder();
    let standard = Router::new()
        .route("/health", get(crate::health::health))
        .route("/ready", get(crate::health::ready).with_state(readiness))
        .route("/metrics", get(metrics::render).with_state(service));
    let mut app = routes.merge(standard);
    if upto >= Layer::Metrics {
        app = app.route_layer(middleware::from_fn_with_state(service, metrics::track_http));
    }
    app = app.fallback(not_found).method_not_allowed_fallback(method_not_allowed);
    if upto >= Layer::BodyLimit {
        app = app.layer(axum::extract::DefaultBodyLimit::max(args.body_limit_bytes));
    }
    if upto >= Layer::Context {
        app = app.layer(middleware::from_fn_with_state(
            args.request_timeout,
            crate::request_context::request_context,
        ));
    }
    app
}

async fn not_found() -> Problem {
    Problem::not_found("no such route")
}

async fn method_not_allowed() -> Problem {
    Problem::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this route",
    )
}

/// The caller's request id, to pass on to downstream calls.
pub fn request_id(headers: &axum::http::HeaderMap) -> Option<HeaderValue> {
    headers.get(REQUEST_ID).cloned()
}

/// A bound listener and the app it serves; binding first lets tests use port 0 and
/// read the real port before the server runs.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: Router,
}

impl Server {
    /// Binds `host:port` (port 0 picks a free one).
    pub async fn bind(host: &str, port: u16, app: Router) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let listener = tokio::net::TcpListener::bind((host, port))
            .await
            .with_context(|| format!("cannot listen on {host}:{port}"))?;
        Ok(Self { listener, app })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        tracing::info!(addr = ?self.listener.local_addr().ok(), "listening");
        axum::serve(self.listener, self.app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser as _;

    use super::HttpArgs;
    use crate::CacheArgs;
    use crate::stores::PoolArgs;

    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        http: HttpArgs,
        #[command(flatten)]
        cache: CacheArgs,
        #[command(flatten)]
        pool: PoolArgs,
    }

    #[test]
    fn clap_defaults_match_default_and_durations_need_a_unit() {
        let f = Flags::try_parse_from(["svc"]).unwrap_or_else(|e| panic!("{e}"));
        let (http, cache) = (HttpArgs::default(), CacheArgs::default());
        assert_eq!(f.http.request_timeout, http.request_timeout);
        assert_eq!(
            (f.cache.timeout, f.cache.breaker_cooldown, f.cache.local_ttl),
            (cache.timeout, cache.breaker_cooldown, cache.local_ttl)
        );
        assert_eq!(f.pool.acquire_timeout, Duration::from_secs(3));

        let f = Flags::try_parse_from(["svc", "--request-timeout", "1m", "--cache-local-ttl", "0s"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (f.http.request_timeout, f.cache.local_ttl),
            (Duration::from_secs(60), Duration::ZERO)
        );
        for bad in [
            ["--request-timeout", "10000"],
            ["--request-timeout", "0s"],
            ["--cache-timeout", "0ms"],
        ] {
            assert!(Flags::try_parse_from(["svc", bad[0], bad[1]]).is_err(), "{bad:?}");
        }
    }
}
