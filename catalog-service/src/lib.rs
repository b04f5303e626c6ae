//! The catalog service: products and their stock, on its own PostgreSQL database with
//! a Redis cache-aside for reads by id. Stock is reserved and released per order,
//! atomically and idempotently, so the order service can retry safely.

pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod routes;
pub mod startup;

pub use config::{Cli, Config};
pub use error::{Error, Result};
pub use startup::{AppState, app, build, build_with};
