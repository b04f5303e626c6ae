//! The service's own routes and their contract; `/health`, `/ready`, `/metrics` and
//! `/openapi.json` come from `service_kit`.
//!
//! Body limits: every route is a `GET` that reads no body, and axum applies a limit only
//! where a body is read; the shared limit of `service_kit::http::finish`
//! (`--body-limit-bytes`, 64 KiB) is the one a route that comes to read a body would get.

use axum::Router;
use utoipa::OpenApi as _;

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

/// The operations of [`router`]; [`contract`] completes it.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "cost-optimizer",
        description = "Costs, right-sizing and scaling decisions of the platform's services"
    ),
    paths(
        cost_analysis::get_cost_analysis,
        cost_analysis::get_all_cost_analysis,
        scaling_decision::get_scaling_decision,
        cost_tiers::get_cost_tiers,
    )
)]
pub struct ApiDoc;

/// The contract served at `/openapi.json`: [`ApiDoc`] with the standard routes, the
/// problem+json errors of the shared shell and the bearer scheme.
pub fn contract() -> utoipa::openapi::OpenApi {
    service_kit::openapi::document(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn every_route_is_in_the_contract_open_with_its_statuses() {
        use service_kit::testing::contract::{assert_contract, assert_ops_are_routed, open};
        // Arrange
        let ops = [
            open("get", "/cost-analysis/{service}", &["200", "404", "503"]),
            open("get", "/cost-analysis/all", &["200", "503"]),
            open("get", "/scaling-decision/{service}", &["200", "404"]),
            open("get", "/cost-tiers", &["200"]),
        ];

        // Act
        let doc = serde_json::to_value(contract()).unwrap();

        // Assert
        assert_contract(&doc, &ops);
        let sources = [
            include_str!("cost_analysis.rs"),
            include_str!("cost_tiers.rs"),
            include_str!("scaling_decision.rs"),
        ];
        assert_ops_are_routed(&ops, &sources);
        assert!(doc["components"]["schemas"]["DecisionReport"].is_object());
    }
}
