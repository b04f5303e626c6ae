//! Cost optimizer domain: prices pods, decides scaling with cost in view, and replays demand
//! traces through autoscaling policies to measure what predictive scaling saves.
//!
//! The domain modules (`cost`, `decision`, `hpa`, `policy`, `pricing`, `tiers`, `simulate`, ...)
//! are pure (no I/O beyond reading a pricing file or a trace), so that the HTTP service and the
//! `simulate` CLI share one implementation and their tests need no running system. The HTTP
//! service (`service`) and the simulator (`simulate`) sit on top, apart.

pub mod cost;
pub mod decision;
pub mod error;
pub mod forecast;
pub mod hpa;
pub mod policy;
pub mod pricing;
pub mod service;
pub mod simulate;
pub mod tiers;
pub mod trace;

pub use error::{Error, Result};
pub use service::config::Config;
pub use service::startup::{app, build};
pub use service::state::AppState;
