//! Cost optimizer domain: prices pods, decides scaling with cost in view, and replays demand
//! traces through autoscaling policies to measure what predictive scaling saves.
//!
//! Everything here is pure (no I/O beyond reading a pricing file or a trace) so that the HTTP
//! service and the `simulate` CLI share one implementation and tests need no running system.

pub mod cost;
pub mod decision;
pub mod error;
pub mod forecast;
pub mod hpa;
pub mod policy;
pub mod pricing;
pub mod report;
pub mod simulate;
pub mod svg;
pub mod tiers;
pub mod trace;

pub use error::{Error, Result};
