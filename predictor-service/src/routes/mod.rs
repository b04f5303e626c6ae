//! HTTP routes of the predictor and their contract; the standard ones (`/health`, `/ready`,
//! `/metrics`) are added by `service_kit::http::finish`, `/openapi.json` by `startup`.
//!
//! Body limits: only `POST /forecast` reads a body, and sets its own (4 MiB, for 100,000
//! values). The others read none (the GETs, and the retrain `POST`, whose request is its
//! path): axum applies a limit only where a body is read, so the shared one of `finish`
//! (`--body-limit-bytes`, 64 KiB) is all they need, and a route that comes to read a body
//! gets it unless it sets its own.

mod forecast;
mod models;
mod predict;

use axum::Router;
use utoipa::OpenApi as _;

use crate::state::AppState;

/// All resource routes.
pub fn router() -> Router<AppState> {
    predict::router().merge(models::router()).merge(forecast::router())
}

/// The operations of [`router`]; [`contract`] completes it.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "predictor-service",
        description = "CPU demand forecasts of the platform's services"
    ),
    paths(
        predict::get_prediction,
        predict::list_predictions,
        models::list_model_status,
        models::retrain_model,
        forecast::create_forecast,
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

    use serde_json::Value;

    use super::*;
    use crate::whatif::{MAX_HORIZON_STEPS, MAX_START, MAX_STEP_SECONDS, MAX_VALUES};

    /// The paths passed to `.route(..)` in this module's files: what the router serves.
    fn routed_paths() -> Vec<&'static str> {
        let sources = [
            include_str!("forecast.rs"),
            include_str!("models.rs"),
            include_str!("predict.rs"),
        ];
        let paths: Vec<&str> = sources
            .iter()
            .flat_map(|src| src.split(".route(").skip(1))
            .filter_map(|rest| rest.trim_start().strip_prefix('"'))
            .map(|rest| rest.split('"').next().expect("a closing quote"))
            .collect();
        assert!(paths.len() >= 5, "the scan found too few routes: {paths:?}");
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
    fn only_a_retrain_needs_a_token() {
        // Arrange
        let doc = serde_json::to_value(contract()).unwrap();

        // Act
        let secured: Vec<String> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .unwrap()
                    .iter()
                    .filter(|(_, op)| op.get("security").is_some())
                    .map(move |(method, _)| format!("{method} {path}"))
            })
            .collect();

        // Assert
        assert_eq!(secured, ["post /models/{service}/retrain"]);
        let retrain = &doc["paths"]["/models/{service}/retrain"]["post"]["responses"];
        for status in ["202", "401", "403", "404", "429"] {
            assert!(retrain.get(status).is_some(), "{status} missing: {retrain}");
        }
    }

    #[test]
    fn the_forecast_bounds_in_the_contract_are_the_checked_ones() {
        // Arrange
        let doc = serde_json::to_value(contract()).unwrap();

        // Act
        let fields = &doc["components"]["schemas"]["ForecastRequest"]["properties"];
        let num = |v: &Value| v.as_f64().unwrap();

        // Assert
        assert_eq!(num(&fields["step_seconds"]["maximum"]), MAX_STEP_SECONDS as f64);
        assert_eq!(num(&fields["horizon_steps"]["maximum"]), MAX_HORIZON_STEPS as f64);
        assert_eq!(num(&fields["start"]["maximum"]), MAX_START as f64);
        assert_eq!(num(&fields["start"]["minimum"]), -(MAX_START as f64));
        assert_eq!(num(&fields["values"]["maxItems"]), MAX_VALUES as f64);
    }
}
