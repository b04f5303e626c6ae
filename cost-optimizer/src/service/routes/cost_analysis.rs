//! `GET /cost-analysis/{service}` and `GET /cost-analysis/all`.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use service_kit::ApiJson;
use service_kit::problem::ApiPath;

use crate::service::answers::{self, AllCostAnalysis, CostAnalysisReport};
use crate::service::api_error::ApiError;
use crate::service::state::AppState;

/// The cost-analysis routes. `/all` is a static segment, which axum matches before `{service}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cost-analysis/all", get(get_all_cost_analysis))
        .route("/cost-analysis/{service}", get(get_cost_analysis))
}

/// The cost of one service now, its idle share, and the tier it should have.
#[utoipa::path(
    get,
    path = "/cost-analysis/{service}",
    tag = "cost",
    params(("service" = String, Path, description = "a service with a cost policy", example = "catalog-service")),
    responses(
        (status = 200, body = CostAnalysisReport),
        (status = 404, description = "no cost policy for this service", body = service_kit::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Prometheus cannot be queried", body = service_kit::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(service = %service))]
pub(crate) async fn get_cost_analysis(
    State(state): State<AppState>,
    ApiPath(service): ApiPath<String>,
) -> Result<ApiJson<CostAnalysisReport>, ApiError> {
    answers::cost_analysis(&state, &service).await.map(ApiJson)
}

/// The analysis of every service with a cost policy, and the totals.
#[utoipa::path(
    get,
    path = "/cost-analysis/all",
    tag = "cost",
    responses(
        (status = 200, body = AllCostAnalysis),
        (status = 503, description = "Prometheus cannot be queried", body = service_kit::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn get_all_cost_analysis(State(state): State<AppState>) -> Result<ApiJson<AllCostAnalysis>, ApiError> {
    answers::cost_analysis_all(&state).await.map(ApiJson)
}
