//! `GET /scaling-decision/{service}`.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use service_kit::ApiJson;
use service_kit::problem::ApiPath;

use crate::service::answers::{self, DecisionReport};
use crate::service::api_error::ApiError;
use crate::service::state::AppState;

/// The scaling-decision route.
pub fn router() -> Router<AppState> {
    Router::new().route("/scaling-decision/{service}", get(get_scaling_decision))
}

#[tracing::instrument(skip_all, fields(service = %service))]
async fn get_scaling_decision(
    State(state): State<AppState>,
    ApiPath(service): ApiPath<String>,
) -> Result<ApiJson<DecisionReport>, ApiError> {
    answers::scaling_decision(&state, &service).await.map(ApiJson)
}
