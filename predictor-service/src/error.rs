//! What can go wrong answering a request, and the one mapping of it to problem+json.

use axum::http::{HeaderValue, StatusCode, header};
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
    /// Fields out of their bounds, each named with its message (422).
    #[error(transparent)]
    Fields(#[from] service_kit::validation::Invalid),
    /// Every fit slot is taken (503, with `Retry-After`).
    #[error("every fit slot is busy: retry in {retry_after_seconds}s")]
    Busy {
        /// What `Retry-After` says.
        retry_after_seconds: u64,
    },
    /// The service was retrained less than the minimum interval ago (429, with `Retry-After`).
    #[error("service {service:?} was retrained recently: retry in {retry_after_seconds}s")]
    RetrainTooSoon {
        /// The service.
        service: String,
        /// What `Retry-After` says.
        retry_after_seconds: u64,
    },
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
        let retry_after = match &self {
            Self::Busy { retry_after_seconds }
            | Self::RetrainTooSoon {
                retry_after_seconds, ..
            } => Some(*retry_after_seconds),
            _ => None,
        };
        let problem = match &self {
            Self::UnknownService(_) => Problem::not_found(self.to_string()),
            Self::BadParameter { .. } => Problem::bad_request(self.to_string()),
            Self::Invalid(detail) => Problem::unprocessable(detail.clone()),
            Self::Fields(invalid) => Problem::from(invalid.clone()),
            Self::Busy { .. } => Problem::unavailable(self.to_string()),
            Self::RetrainTooSoon { .. } => Problem::new(StatusCode::TOO_MANY_REQUESTS, self.to_string()),
            Self::Forecast(_) | Self::Task(_) => {
                tracing::error!(error.message = %self, "request failed");
                Problem::internal()
            }
        };
        let mut response = problem.into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
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
        let fields = service_kit::validation::Invalid::new("bad").with_error("step_seconds", "too big");
        assert_eq!(status(Error::from(fields)), 422);
    }

    #[test]
    fn refusals_to_come_back_later_say_when() {
        let busy = Error::Busy { retry_after_seconds: 1 }.into_response();
        assert_eq!(busy.status(), 503);
        assert_eq!(busy.headers()[header::RETRY_AFTER], "1");
        assert_eq!(busy.headers()[header::CONTENT_TYPE], "application/problem+json");
        let soon = Error::RetrainTooSoon {
            service: "a".into(),
            retry_after_seconds: 42,
        }
        .into_response();
        assert_eq!(soon.status(), 429);
        assert_eq!(soon.headers()[header::RETRY_AFTER], "42");
        assert!(
            Error::Invalid("x".into())
                .into_response()
                .headers()
                .get(header::RETRY_AFTER)
                .is_none()
        );
    }
}
