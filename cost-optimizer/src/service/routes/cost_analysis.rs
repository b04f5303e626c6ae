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

#[tracing::instrument(skip_all, fields(service = %service))]
async fn get_cost_analysis(
    State(state): State<AppState>,
    ApiPath(service): ApiPath<String>,
) -> Result<ApiJson<CostAnalysisReport>, ApiError> {
    answers::cost_analysis(&state, &service).await.map(ApiJson)
}

#[tracing::instrument(skip_all)]
async fn get_all_cost_analysis(State(state): State<AppState>) -> Result<ApiJson<AllCostAnalysis>, ApiError> {
    answers::cost_analysis_all(&state).await.map(ApiJson)
}
