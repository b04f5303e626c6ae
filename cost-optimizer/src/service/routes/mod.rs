//! The service's own routes; `/health`, `/ready` and `/metrics` come from `service_kit`.

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
