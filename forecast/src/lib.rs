//! Forecasting, pure: regular time series, the one trace loader, features, models,
//! rolling-origin backtest, empirical prediction intervals and per-series model selection.
//! No HTTP, no Prometheus: predictor-service serves it, `cost-optimizer simulate` and
//! load-generator's trace replay use it.
//!
//! The entry point for the service is [`select::select`]: give it a [`Series`] and a horizon
//! in steps, get back a [`Forecast`] with the chosen model, its path, measured bounds, the
//! backtest scores of every candidate and a fallback flag.

pub mod backtest;
pub mod error;
pub mod features;
pub mod interval;
pub mod models;
pub mod peak;
pub mod select;
pub mod series;
pub mod trace;
pub mod training;

/// Synthetic series for tests (this crate's and its users').
#[doc(hidden)]
pub mod testdata;

pub use error::ForecastError;
pub use models::{Model, ModelKind};
pub use select::{Forecast, SelectConfig, plausible, select};
pub use series::Series;

/// Result type of the forecasting code.
pub type Result<T, E = ForecastError> = std::result::Result<T, E>;
