//! Predictor service library: pure forecasting models (`forecast`) and the trace evaluation
//! behind the `backtest` subcommand (`evaluation`, `report`). No I/O happens here except the
//! CSV trace loader in `forecast::series`, so the HTTP layer can call everything from
//! `spawn_blocking` and tests can call it directly.

pub mod duration;
pub mod evaluation;
pub mod forecast;
pub mod report;
