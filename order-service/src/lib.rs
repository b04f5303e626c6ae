//! The order service: creates orders across the user and catalog services, stores
//! them, and queues them on Redis for the worker (`order-service worker`), which does
//! the fulfilment work with a reliable-queue pattern. An order is placed by a saga
//! recorded in the database, and a reconciler in the API finishes whatever a crash,
//! a disconnect or a lost queue entry left undone.

pub mod clients;
pub mod config;
pub mod create;
pub mod db;
pub mod domain;
pub mod error;
pub mod queue;
pub mod reconcile;
pub mod routes;
pub mod saga;
pub mod startup;
pub mod state;
pub mod worker;

pub use config::{Cli, Command, Config, WorkerConfig};
pub use error::{Error, Result};
pub use startup::{App, build};
pub use state::AppState;
