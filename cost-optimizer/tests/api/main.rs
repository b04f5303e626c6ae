//! Black-box tests of the cost optimizer over HTTP, against a real Prometheus backfilled with
//! known usage and a real predictor running in-process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cost_analysis;
mod decisions;
mod errors;
mod helpers;
