//! Flags and environment variables, with defaults that work on one machine.

use service_kit::stores::PoolArgs;
use service_kit::{CacheArgs, HttpArgs};

/// Catalog-service configuration.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 8002)]
    pub port: u16,
    /// PostgreSQL database owned by this service.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres:postgres@127.0.0.1:5432/catalog"
    )]
    pub database_url: String,
    /// Connection pool sizing.
    #[command(flatten)]
    pub pool: PoolArgs,
    /// Redis used as a read cache.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
    /// Prefix of every Redis key (tests use their own).
    #[arg(long, env = "REDIS_PREFIX", default_value = "")]
    pub redis_prefix: String,
    /// Lifetime of a cached product; bounds staleness if an invalidation is lost.
    #[arg(long, env = "CACHE_TTL_SECONDS", default_value_t = 300)]
    pub cache_ttl_seconds: u64,
    /// Shared HTTP flags.
    #[command(flatten)]
    pub http: HttpArgs,
}

/// The command line: the configuration and the cache's deadline and breaker. The
/// cache tuning sits beside `Config` rather than in it so that code that builds a
/// `Config` field by field (the order service's tests start this service) keeps
/// compiling; `build` uses the defaults.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "catalog-service", version, about = "Products and stock of the demo shop")]
pub struct Cli {
    /// The service's configuration.
    #[command(flatten)]
    pub config: Config,
    /// Deadline and circuit breaker of cache calls.
    #[command(flatten)]
    pub cache: CacheArgs,
}
