//! Black-box tests of the order service and its worker, with the user and catalog
//! services started in-process, against real PostgreSQL and Redis.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod credentials;
mod faults;
mod helpers;
mod idempotency;
mod journey;
mod openapi;
mod reconcile;
mod saga;
mod tokens;
mod worker;
