//! `GET /models/status` and `POST /models/{service}/retrain`. A retrain is asynchronous: the
//! request flags the service and wakes the refresh loop, which reselects the model off the
//! request path; the answer is 202 and `/models/status` shows the new `last_trained`. A
//! service is retrained at most once per `--retrain-min-interval` (429 sooner): a selection
//! backtests every model, and a caller in a loop must not keep the refresh loop on it.
//! Retraining takes an admin token.

use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Serialize;
use service_kit::ApiJson;
use service_kit::auth::Admin;
use service_kit::problem::ApiPath;

use crate::error::Error;
use crate::limits::retry_after_seconds;
use crate::state::AppState;
use forecast::ModelKind;
use forecast::backtest::ModelScore;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/models/status", get(list_model_status))
        .route("/models/{service}/retrain", post(retrain_model))
}

/// One service's model, as `/models/status` lists it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ModelStatus {
    service: String,
    model: Option<ModelKind>,
    samples: usize,
    last_trained: Option<DateTime<Utc>>,
    training_seconds: Option<f64>,
    fallback: bool,
    fallback_reason: Option<String>,
    retrain_pending: bool,
    scores: Vec<ModelScore>,
}

/// The model of every forecast service, when it was trained and how it scored.
#[utoipa::path(get, path = "/models/status", tag = "models", responses((status = 200, body = Vec<ModelStatus>)))]
async fn list_model_status(State(state): State<AppState>) -> ApiJson<Vec<ModelStatus>> {
    let all = state
        .shared
        .read()
        .values()
        .map(|e| ModelStatus {
            service: e.target.service.clone(),
            model: e.prediction.model,
            samples: e.prediction.samples,
            last_trained: e.trained.as_ref().map(|t| t.last_trained),
            training_seconds: e.trained.as_ref().map(|t| t.training_seconds),
            fallback: e.prediction.fallback,
            fallback_reason: e.prediction.fallback_reason.clone(),
            retrain_pending: e.retrain_requested,
            scores: e.trained.as_ref().map(|t| t.scores.clone()).unwrap_or_default(),
        })
        .collect();
    ApiJson(all)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct RetrainAccepted {
    service: String,
    status: &'static str,
}

/// Schedules a retrain of one service's model (admin only); at most one per
/// `--retrain-min-interval` per service.
#[utoipa::path(
    post,
    path = "/models/{service}/retrain",
    tag = "models",
    params(("service" = String, Path, description = "a forecast service", example = "catalog-service")),
    security(("bearer" = [])),
    responses(
        (status = 202, body = RetrainAccepted),
        (status = 404, description = "not a forecast service", body = service_kit::Problem, content_type = "application/problem+json"),
        (status = 429, description = "retrained too recently", body = service_kit::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "seconds until it may be retrained"))),
    )
)]
async fn retrain_model(
    _admin: Admin,
    State(state): State<AppState>,
    ApiPath(service): ApiPath<String>,
) -> Result<(StatusCode, ApiJson<RetrainAccepted>), Error> {
    // Unknown names are refused first, so the limiter only ever records known services.
    if !state.shared.knows(&service) {
        return Err(Error::UnknownService(service));
    }
    if let Err(wait) = state.retrains.check(&service, Instant::now()) {
        let retry_after_seconds = retry_after_seconds(wait);
        return Err(Error::RetrainTooSoon {
            service,
            retry_after_seconds,
        });
    }
    if !state.shared.request_retrain(&service) {
        return Err(Error::UnknownService(service));
    }
    let body = RetrainAccepted {
        service,
        status: "scheduled",
    };
    Ok((StatusCode::ACCEPTED, ApiJson(body)))
}
