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

    #[test]
    fn every_route_is_in_the_contract_with_its_security_and_statuses() {
        use service_kit::testing::contract::{assert_contract, assert_ops_are_routed, open, secured};
        // Arrange
        let ops = [
            open("post", "/forecast", &["200", "422", "503"]),
            open("get", "/models/status", &["200"]),
            secured("post", "/models/{service}/retrain", &["202", "404", "429"]),
            open("get", "/predict/all", &["200"]),
            open("get", "/predict/{service}", &["200", "400", "404", "422", "503"]),
        ];

        // Act
        let doc = serde_json::to_value(contract()).unwrap();

        // Assert
        assert_contract(&doc, &ops);
        let sources = [
            include_str!("forecast.rs"),
            include_str!("models.rs"),
            include_str!("predict.rs"),
        ];
        assert_ops_are_routed(&ops, &sources);
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
