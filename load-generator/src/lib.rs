//! Open-loop load generator for the shop services.
//!
//! Layout: `shape` (rate as a pure function of time) and `trace` (CSV traces as rates) feed
//! `schedule` (due times); `driver` starts actions on schedule under an in-flight cap; `scenario`
//! picks actions and `shop` performs them over HTTP after `seed` prepared the ids they need;
//! `auth` holds the admin token (seeding) and the customers' credentials and tokens; `stats`
//! records HDR latencies from due times and `report` prints them. `cli` and `app` wire a
//! command line into a run; `bench_target` is a trivial server for measuring the generator itself.
//! The plain `--url` mode takes a faster road: `fast` runs a pool of keep-alive connections
//! (`conn`, speaking HTTP/1.1 through `http1`) that claim due times from `due`; `pool` grows it.

pub mod app;
pub mod auth;
pub mod bench_target;
pub mod cli;
pub mod conn;
pub mod driver;
pub mod due;
pub mod fast;
pub mod http1;
mod pool;
pub mod report;
pub mod scenario;
pub mod schedule;
pub mod seed;
pub mod shape;
pub mod shop;
pub mod stats;
pub mod trace;
