//! The one error type of the forecasting code. The HTTP layer maps `NoData` and
//! `NotEnoughHistory` to an explicit "no forecast" answer and `InvalidInput` to 422.

/// Why a forecast, a fit or a trace load failed.
#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    /// The series holds no value at all: there is nothing to forecast from.
    #[error("no data")]
    NoData,
    /// The series is shorter than the model needs.
    #[error("not enough history: need {needed} points, have {got}")]
    NotEnoughHistory {
        /// Points the model needs.
        needed: usize,
        /// Points the series has.
        got: usize,
    },
    /// The caller passed something unusable (zero step, non-finite value, zero horizon).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A model could not be fitted (singular system, non-finite output).
    #[error("model fit failed: {0}")]
    Fit(String),
    /// A trace file could not be read.
    #[error("failed to read {path}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line of a trace file could not be parsed.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// One-based line number.
        line: usize,
        /// What was wrong.
        message: String,
    },
}
