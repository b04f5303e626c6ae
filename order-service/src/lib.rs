//! The order service: creates orders across the user and catalog services, stores
//! them, and queues them on Redis for the worker (`order-service worker`), which does
//! the fulfilment work with a reliable-queue pattern.

pub mod clients;
pub mod config;
pub mod create;
pub mod db;
pub mod domain;
pub mod queue;
pub mod routes;
pub mod startup;
pub mod worker;

pub use config::{Cli, Command, Config, WorkerConfig};
pub use startup::{AppState, build};
