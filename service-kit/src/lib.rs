//! What every service of the platform shares, and nothing domain-specific: logging,
//! the Prometheus recorder and HTTP metrics, health and readiness, problem+json errors,
//! request ids, limits and timeouts, graceful shutdown, the connections to PostgreSQL and
//! Redis (and the refusal of the local setup's default credentials off loopback:
//! [`exposure::check`]), the Prometheus client, the one duration grammar (and the refusal of the
//! variables it retired) and table printer of the command-line tools, and the pieces the
//! shop services would otherwise each
//! repeat: the validation error ([`Invalid`]), what a `sqlx` error means
//! ([`db_error::classify`]) and the scheme of cache keys ([`keys::cache_key`]).

pub mod auth;
pub mod cache;
pub mod conditional;
pub mod db_error;
pub mod duration;
pub mod exposure;
pub mod health;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod prometheus;
pub mod request_context;
pub mod retired;
pub mod shutdown;
pub mod stores;
pub mod table;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
pub mod validation;

pub use cache::{CacheArgs, JsonCache};
pub use health::Readiness;
pub use http::{HttpArgs, Server};
pub use problem::{ApiJson, Problem};
pub use validation::Invalid;
