//! Black-box tests of the predictor over HTTP, against a real Prometheus backfilled with
//! known history (`promtool tsdb create-blocks-from openmetrics`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod forecast;
mod helpers;
mod limits;
mod peak;
mod predict;
