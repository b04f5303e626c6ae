//! Cost optimizer domain: prices pods, decides scaling with cost in view, and replays demand
//! traces through autoscaling policies to measure what predictive scaling saves.
//!
//! The domain modules (`cost`, `decision`, `hpa`, `policy`, `pricing`, `tiers`, `simulate`, ...)
//! are pure (no I/O beyond reading a pricing file or a trace), so that the HTTP service and the
//! `simulate` CLI share one implementation and their tests need no running system. The HTTP
//! service sits on top: `config`, `state`, `startup`, `routes`, `optimizer` (what each endpoint answers),
//! the `usage` source (over `service_kit::prometheus`) and the `predictor` client, `gauges`
//! (recorded by `optimizer`), `refresh` (which recomputes them) and `api_error`.

pub mod api_error;
pub mod config;
pub mod cost;
pub mod decision;
pub mod error;
pub mod forecast;
pub mod gauges;
pub mod hpa;
pub mod optimizer;
pub mod policy;
pub mod predictor;
pub mod pricing;
pub mod refresh;
pub mod routes;
pub mod simulate;
pub mod startup;
pub mod state;
pub mod tiers;
pub mod trace;
pub mod usage;

pub use config::Config;
pub use error::{Error, Result};
pub use startup::{app, build};
pub use state::AppState;
