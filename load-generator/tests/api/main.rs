//! Integration tests: the generator against small axum servers on loopback, each run a few seconds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fast;
mod helpers;
mod open_loop;
mod shop;
