//! `GET /predict/{service}` and `GET /predict/all`: the latest predictions from memory. Only
//! a `?horizon=` other than the configured one costs a fit (on the blocking pool, in one of
//! the request fit slots: 503 when none is free).

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use service_kit::ApiJson;
use service_kit::problem::{ApiPath, ApiQuery};

use crate::error::{Error, Result};
use crate::prediction::Prediction;
use crate::state::AppState;
use service_kit::duration::whole_seconds as parse_duration;

pub(crate) fn router() -> Router<AppState> {
    // A static segment outranks a parameter, so `all` never reaches `get_prediction`.
    Router::new()
        .route("/predict/all", get(list_predictions))
        .route("/predict/{service}", get(get_prediction))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PredictQuery {
    /// e.g. `10m`; default: the configured horizon.
    #[param(example = "10m")]
    horizon: Option<String>,
}

fn unknown(service: &str) -> Error {
    Error::UnknownService(service.to_owned())
}

/// The latest prediction for one service; `?horizon=` other than the configured one fits
/// again over the recent history.
#[utoipa::path(
    get,
    path = "/predict/{service}",
    tag = "predictions",
    params(("service" = String, Path, description = "a forecast service", example = "catalog-service"), PredictQuery),
    responses(
        (status = 200, body = Prediction),
        (status = 400, description = "`horizon` is not a duration", body = service_kit::Problem, content_type = "application/problem+json"),
        (status = 404, description = "not a forecast service", body = service_kit::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`horizon` exceeds the recent history", body = service_kit::Problem, content_type = "application/problem+json"),
        (status = 503, description = "every fit slot is busy", body = service_kit::Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds until a slot is likely free"))),
    )
)]
async fn get_prediction(
    State(state): State<AppState>,
    ApiPath(service): ApiPath<String>,
    ApiQuery(query): ApiQuery<PredictQuery>,
) -> Result<Response> {
    let horizon = match query.horizon.as_deref() {
        None => state.config.horizon_seconds,
        Some(text) => parse_duration(text).map_err(|reason| Error::BadParameter {
            name: "horizon",
            reason,
        })?,
    };
    if horizon == state.config.horizon_seconds {
        let prediction = state.shared.prediction(&service).ok_or_else(|| unknown(&service))?;
        return Ok(ApiJson(prediction.as_ref()).into_response());
    }
    if horizon > state.config.recent_seconds {
        return Err(Error::Invalid(format!(
            "horizon {horizon}s exceeds the recent history of {}s",
            state.config.recent_seconds
        )));
    }
    let entry = state.shared.entry(&service).ok_or_else(|| unknown(&service))?;
    let steps = state.config.horizon_steps(horizon);
    let slot = state.fits.try_acquire()?;
    let prediction = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        crate::training::predict_at(&entry, horizon, steps)
    })
    .await?;
    Ok(ApiJson(prediction).into_response())
}

/// The latest prediction of every forecast service.
#[utoipa::path(get, path = "/predict/all", tag = "predictions", responses((status = 200, body = Vec<Prediction>)))]
async fn list_predictions(State(state): State<AppState>) -> ApiJson<Vec<Prediction>> {
    let all = state
        .shared
        .read()
        .values()
        .map(|e| e.prediction.as_ref().clone())
        .collect();
    ApiJson(all)
}
