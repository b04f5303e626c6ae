//! `/health` says the process is alive; `/ready` says its dependencies answer, so that
//! a load balancer (or Kubernetes) stops sending traffic while PostgreSQL or Redis is down.
//!
//! A dependency the service can work without (a cache) is checked as optional: when it
//! is down `/ready` still answers 200, with `"status": "degraded"` and the dependency
//! named, because taking every pod out of its Service over a cache outage would turn
//! a slower service into no service.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

type CheckFn = dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync;

/// Whether a failing check makes the service not ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Required,
    Optional,
}

/// A set of named dependency checks, each bounded by a timeout.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<(&'static str, Need, Arc<CheckFn>)>,
}

/// How long one dependency may take to answer before it counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

impl Readiness {
    /// No checks: always ready.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a named check that must pass for the service to be ready.
    pub fn check<F, Fut>(mut self, name: &'static str, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks
            .push((name, Need::Required, Arc::new(move || Box::pin(f()))));
        self
    }

    /// Adds a named check whose failure leaves the service ready but degraded.
    pub fn optional<F, Fut>(mut self, name: &'static str, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks
            .push((name, Need::Optional, Arc::new(move || Box::pin(f()))));
        self
    }

    /// Adds a cache as an optional dependency named `name`, checked through its own
    /// deadline and circuit breaker (so a stalled cache cannot slow `/ready` down).
    pub fn cache(self, name: &'static str, cache: crate::JsonCache) -> Self {
        self.optional(name, move || {
            let cache = cache.clone();
            async move { cache.health().await }
        })
    }

    /// Adds `select 1` against a PostgreSQL pool.
    pub fn postgres(self, pool: sqlx::PgPool) -> Self {
        self.check("postgres", move || {
            let pool = pool.clone();
            async move {
                sqlx::query("select 1")
                    .execute(&pool)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
    }

    /// Adds `PING` against Redis, as a required dependency (a queue, not a cache).
    pub fn redis(self, conn: redis::aio::ConnectionManager) -> Self {
        self.check("redis", move || {
            let mut conn = conn.clone();
            async move {
                redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
    }

    /// Runs every check in turn (there are one or two); returns each name with its error.
    pub async fn run(&self) -> Vec<(&'static str, Option<String>)> {
        self.run_all().await.into_iter().map(|(name, _, e)| (name, e)).collect()
    }

    async fn run_all(&self) -> Vec<(&'static str, Need, Option<String>)> {
        let futures = self.checks.iter().map(|(name, need, f)| async move {
            let outcome = match tokio::time::timeout(CHECK_TIMEOUT, f()).await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e),
                Err(_) => Some(format!("no answer within {CHECK_TIMEOUT:?}")),
            };
            (*name, *need, outcome)
        });
        let mut out = Vec::with_capacity(self.checks.len());
        for f in futures {
            out.push(f.await);
        }
        out
    }
}

/// Liveness: the process answers.
pub async fn health() -> Response {
    axum::Json(json!({ "status": "ok" })).into_response()
}

/// Readiness: 503 naming the required dependencies that do not answer; otherwise 200,
/// `"status": "ready"`, or `"degraded"` with the optional ones that are down listed.
pub async fn ready(State(readiness): State<Readiness>) -> Response {
    let results = readiness.run_all().await;
    let down = |need: Need| -> Vec<_> { results.iter().filter(|(_, n, e)| *n == need && e.is_some()).collect() };
    let (required_down, optional_down) = (down(Need::Required), down(Need::Optional));
    if required_down.is_empty() {
        let checks: serde_json::Map<_, _> = results
            .iter()
            .map(|(name, _, e)| ((*name).to_owned(), json!(e.as_deref().unwrap_or("ok"))))
            .collect();
        let degraded: Vec<_> = optional_down.iter().map(|(n, _, _)| *n).collect();
        let status = if degraded.is_empty() { "ready" } else { "degraded" };
        axum::Json(json!({ "status": status, "checks": checks, "degraded": degraded })).into_response()
    } else {
        let names: Vec<_> = required_down.iter().map(|(n, _, _)| *n).collect();
        let mut problem = crate::Problem::unavailable(format!("not ready: {} down", names.join(", ")));
        for (name, _, e) in required_down.into_iter().chain(optional_down) {
            problem = problem.with_error(name, e.clone().unwrap_or_default());
        }
        (StatusCode::SERVICE_UNAVAILABLE, problem).into_response()
    }
}
