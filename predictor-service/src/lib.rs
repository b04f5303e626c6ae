//! Predictor service: forecasts each service's CPU demand from Prometheus history and serves
//! the forecasts over HTTP and as Prometheus series for the HPA.
//!
//! Layout: the `forecast` crate holds the pure models and their selection; `evaluation` and
//! `report` the `backtest` subcommand. The service is `config` (flags), `targets` (queries per
//! service, over `service_kit::prometheus`), `worker` (the refresh loop, fits in
//! `spawn_blocking`), `peak` (the lead-time peak the HPA reads, and the stitching of the two
//! history queries), `training` (the bucket models), `capacity` (observed replicas and request,
//! and the utilization arithmetic), `prediction` (the JSON answer), `state` (what requests
//! read), `metrics`, `limits` (fit slots and the retrain rate limit), `whatif` (`POST
//! /forecast`: its bounds, and its values capped while parsed), `routes` and `startup`.

pub mod capacity;
pub mod cli;
pub mod config;
pub mod error;
pub mod evaluation;
pub mod limits;
pub mod metrics;
pub mod peak;
pub mod prediction;
pub mod report;
pub mod routes;
pub mod startup;
pub mod state;
pub mod targets;
pub mod training;
pub mod whatif;
pub mod worker;

pub use config::Config;
pub use error::{Error, Result};
pub use startup::{app, build};
pub use state::AppState;
