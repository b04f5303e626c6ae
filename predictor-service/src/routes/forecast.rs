//! `POST /forecast`: stateless what-if forecasts, with a body limit of its own (a week at
//! 15-second steps is about 1 MB of JSON, far above the shared 64 KiB limit). The values are
//! capped while they are parsed, the other fields checked before the fit, and the fit takes
//! one of the request fit slots (503 when none is free).

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use service_kit::ApiJson;

use crate::error::Result;
use crate::state::AppState;
use crate::whatif::{self, BODY_LIMIT_BYTES, ForecastRequest};
use forecast::Forecast;

pub(crate) fn router() -> Router<AppState> {
    // The route's own limit is the innermost layer, so it wins over the shared one.
    Router::new().route(
        "/forecast",
        post(create_forecast).layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES)),
    )
}

/// A forecast of any series the caller sends (what-if): the backtest picks the model unless
/// `model` names one.
#[utoipa::path(
    post,
    path = "/forecast",
    tag = "forecast",
    request_body = ForecastRequest,
    responses(
        (status = 200, body = Forecast),
        (status = 422, description = "a field out of its bounds, or a series no model can use", body = service_kit::Problem, content_type = "application/problem+json"),
        (status = 503, description = "every fit slot is busy", body = service_kit::Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds until a slot is likely free"))),
    )
)]
#[tracing::instrument(skip_all, fields(values = req.values.len()))]
async fn create_forecast(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ForecastRequest>,
) -> Result<ApiJson<Forecast>> {
    let valid = req.validate()?;
    // Taken after the body is read, so a slow upload holds no slot.
    let slot = state.fits.try_acquire()?;
    let forecast = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        whatif::run(&valid)
    })
    .await??;
    Ok(ApiJson(forecast))
}
