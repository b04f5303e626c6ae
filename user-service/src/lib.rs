//! The user service: register, read, update and delete the shop's users, on its own
//! PostgreSQL database with a Redis cache-aside for reads by id; and log them in:
//! `POST /auth/token` trades an email and password for a customer token.

pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod password;
pub mod routes;
pub mod startup;

pub use config::{Cli, Config};
pub use error::{Error, Result};
pub use startup::{AppState, Tokens, app, build, build_with};
