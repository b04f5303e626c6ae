//! `/health` says the process is alive; `/ready` says its dependencies answer, so that
//! a load balancer (or Kubernetes) stops sending traffic while PostgreSQL or Redis is down.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

type CheckFn = dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync;

/// A set of named dependency checks, each bounded by a timeout.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<(&'static str, Arc<CheckFn>)>,
}

/// How long one dependency may take to answer before it counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

impl Readiness {
    /// No checks: always ready.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a named check.
    pub fn check<F, Fut>(mut self, name: &'static str, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks.push((name, Arc::new(move || Box::pin(f()))));
        self
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

    /// Adds `PING` against Redis.
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
        let futures = self.checks.iter().map(|(name, f)| async move {
            let outcome = match tokio::time::timeout(CHECK_TIMEOUT, f()).await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e),
                Err(_) => Some(format!("no answer within {CHECK_TIMEOUT:?}")),
            };
            (*name, outcome)
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

/// Readiness: 200 when every dependency answers, 503 naming the ones that do not.
pub async fn ready(State(readiness): State<Readiness>) -> Response {
    let results = readiness.run().await;
    let down: Vec<_> = results.iter().filter(|(_, e)| e.is_some()).collect();
    let checks: serde_json::Map<_, _> = results
        .iter()
        .map(|(name, e)| ((*name).to_owned(), json!(e.as_deref().unwrap_or("ok"))))
        .collect();
    if down.is_empty() {
        axum::Json(json!({ "status": "ready", "checks": checks })).into_response()
    } else {
        let names: Vec<_> = down.iter().map(|(n, _)| *n).collect();
        let mut problem = crate::Problem::unavailable(format!("not ready: {} down", names.join(", ")));
        for (name, e) in down {
            problem = problem.with_error(name, e.clone().unwrap_or_default());
        }
        (StatusCode::SERVICE_UNAVAILABLE, problem).into_response()
    }
}
