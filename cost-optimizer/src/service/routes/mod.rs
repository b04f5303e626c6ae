//! The service's own routes; `/health`, `/ready` and `/metrics` come from `service_kit`.
//!
//! Body limits: every route is a `GET` that reads no body, and axum applies a limit only
//! where a body is read; the shared limit of `service_kit::http::finish`
//! (`--body-limit-bytes`, 64 KiB) is the one a route that comes to read a body would get.

use axum::Router;

use crate::service::state::AppState;

pub mod cost_analysis;
pub mod cost_tiers;
pub mod scaling_decision;

/// Every route of the API.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(cost_analysis::router())
        .merge(scaling_decision::router())
        .merge(cost_tiers::router())
}
