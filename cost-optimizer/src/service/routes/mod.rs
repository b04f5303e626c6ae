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

    /// The paths passed to `.route(..)` in this module's files: what the router serves.
    fn routed_paths() -> Vec<&'static str> {
        let sources = [
            include_str!("cost_analysis.rs"),
            include_str!("cost_tiers.rs"),
            include_str!("scaling_decision.rs"),
        ];
        let paths: Vec<&str> = sources
            .iter()
            .flat_map(|src| src.split(".route(\"").skip(1))
            .map(|rest| rest.split('"').next().expect("a closing quote"))
            .collect();
        assert!(paths.len() >= 4, "the scan found too few routes: {paths:?}");
        paths
    }

    #[test]
    fn every_route_is_in_the_contract_and_nothing_else() {
        // Arrange
        let doc = serde_json::to_value(contract()).unwrap();
        let documented = doc["paths"].as_object().unwrap();

        // Act
        let routed = routed_paths();

        // Assert
        for path in &routed {
            assert!(
                documented.contains_key(*path),
                "{path} is routed but not in the contract"
            );
        }
        for path in documented.keys() {
            let standard = ["/health", "/ready", "/metrics"].contains(&path.as_str());
            assert!(
                standard || routed.contains(&path.as_str()),
                "{path} is in the contract but not routed"
            );
        }
    }

    #[test]
    fn the_contract_lists_the_errors_and_no_token_is_needed() {
        // Arrange
        let doc = serde_json::to_value(contract()).unwrap();

        // Act
        let decision = &doc["paths"]["/scaling-decision/{service}"]["get"];

        // Assert
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        for status in ["200", "404", "500", "503"] {
            assert!(decision["responses"].get(status).is_some(), "{status} missing");
        }
        assert!(decision.get("security").is_none(), "cost-optimizer routes are open");
        assert!(doc["components"]["schemas"]["DecisionReport"].is_object());
    }
}
