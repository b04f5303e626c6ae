//! The user service: register, read, update and delete the shop's users, on its own
//! PostgreSQL database with a Redis cache-aside for reads by id.

pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod routes;
pub mod startup;

pub use config::{Cli, Config};
pub use error::{Error, Result};
pub use startup::{AppState, app, build, build_with};
