//! Black-box tests of the catalog service over HTTP, against real PostgreSQL and Redis.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod cache;
mod coherence;
mod conditional;
mod helpers;
mod openapi;
mod products;
mod stock;
