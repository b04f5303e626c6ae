//! The HTTP errors of this service and their problem documents.

use axum::response::{IntoResponse, Response};
use service_kit::Problem;

use service_kit::prometheus::PromError;

/// What a request can fail with. The predictor is not here: without it decisions fall back
/// to current usage instead of failing.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404: no policy for this service.
    #[error("unknown service {0:?}")]
    UnknownService(String),
    /// 503: Prometheus cannot be queried, and cost analysis cannot be computed without usage.
    #[error("usage is unavailable: {0}")]
    UsageUnavailable(#[from] PromError),
    /// 500: a domain error that configuration validation should have prevented.
    #[error(transparent)]
    Internal(crate::Error),
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::UnknownService(s) => Self::UnknownService(s),
            other => Self::Internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = match &self {
            Self::UnknownService(s) => Problem::not_found(format!(
                "no cost policy for service {s:?}; GET /cost-analysis/all lists the known ones"
            )),
            Self::UsageUnavailable(e) => {
                tracing::warn!(error.message = %e, "usage unavailable");
                Problem::unavailable(format!(
                    "cost analysis needs usage from Prometheus, which cannot be queried ({e}); retry later"
                ))
            }
            Self::Internal(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "internal error");
                Problem::internal()
            }
        };
        problem.into_response()
    }
}
