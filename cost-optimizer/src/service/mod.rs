//! The HTTP service: what `cost-optimizer serve` runs on top of the pure domain modules.
//! `answers` computes what each endpoint answers from current usage (`usage`, over
//! `service_kit::prometheus`) and the predictor (`predictor_client`); `gauges` records
//! the answers as metrics, `refresh` recomputes them in the background.

pub mod answers;
pub mod api_error;
pub mod config;
pub mod gauges;
pub mod predictor_client;
pub mod refresh;
pub mod routes;
pub mod startup;
pub mod state;
pub mod usage;
