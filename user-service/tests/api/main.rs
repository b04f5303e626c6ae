//! Black-box tests of the user service over HTTP, against real PostgreSQL and Redis.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod cache;
mod coherence;
mod conditional;
mod helpers;
mod login;
mod openapi;
mod users;
