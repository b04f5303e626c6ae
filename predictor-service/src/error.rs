//! What can go wrong answering a request, and the one mapping of it to problem+json.

use axum::response::{IntoResponse, Response};
use service_kit::Problem;

/// An error of the predictor's API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The service is not among those this predictor forecasts (404).
    #[error("service {0:?} is not forecast by this predictor")]
    UnknownService(String),
    /// A query parameter that does not parse (400).
    #[error("invalid {name}: {reason}")]
    BadParameter {
        /// The parameter.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// Well-formed input that cannot be forecast (422).
    #[error("{0}")]
    Invalid(String),
    /// A forecast that failed for a reason of ours (500).
    #[error("forecast failed: {0}")]
    Forecast(forecast::ForecastError),
    /// The blocking task running a fit died (500).
    #[error("forecast task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The predictor's results.
pub type Result<T> = std::result::Result<T, Error>;

impl From<forecast::ForecastError> for Error {
    /// Input the models cannot use is the caller's; anything else is ours.
    fn from(e: forecast::ForecastError) -> Self {
        match e {
            forecast::ForecastError::InvalidInput(_) | forecast::ForecastError::NoData => Self::Invalid(e.to_string()),
            e => Self::Forecast(e),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let problem = match &self {
            Self::UnknownService(_) => Problem::not_found(self.to_string()),
            Self::BadParameter { .. } => Problem::bad_request(self.to_string()),
            Self::Invalid(detail) => Problem::unprocessable(detail.clone()),
            Self::Forecast(_) | Self::Task(_) => {
                tracing::error!(error.message = %self, "request failed");
                Problem::internal()
            }
        };
        problem.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_status() {
        let status = |e: Error| e.into_response().status().as_u16();
        assert_eq!(status(Error::UnknownService("x".into())), 404);
        let bad = Error::BadParameter {
            name: "horizon",
            reason: "no unit".into(),
        };
        assert_eq!(bad.to_string(), "invalid horizon: no unit");
        assert_eq!(status(bad), 400);
        assert_eq!(status(Error::Invalid("too long".into())), 422);
        assert_eq!(status(Error::from(forecast::ForecastError::NoData)), 422);
    }
}
