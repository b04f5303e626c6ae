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

/// How many replicas the service should run, with the cost impact and the reasoning. A missing
/// forecast or usage makes a fallback decision, not an error.
#[utoipa::path(
    get,
    path = "/scaling-decision/{service}",
    tag = "cost",
    params(("service" = String, Path, description = "a service with a cost policy", example = "catalog-service")),
    responses(
        (status = 200, body = DecisionReport),
        (status = 404, description = "no cost policy for this service", body = service_kit::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(service = %service))]
pub(crate) async fn get_scaling_decision(
    State(state): State<AppState>,
    ApiPath(service): ApiPath<String>,
) -> Result<ApiJson<DecisionReport>, ApiError> {
    answers::scaling_decision(&state, &service).await.map(ApiJson)
}
