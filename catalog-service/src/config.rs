//! Flags and environment variables, with defaults that work on one machine.

use std::time::Duration;

use service_kit::auth::AuthArgs;
use service_kit::stores::{Stores, default_database};
use service_kit::{CacheArgs, HttpArgs};

/// Catalog-service configuration.
#[derive(Debug, Clone, clap::Args)]
#[command(mut_arg(
    "database_url",
    default_database("postgres://postgres:postgres@127.0.0.1:5432/catalog")
))]
pub struct Config {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 8002)]
    pub port: u16,
    /// The database, and Redis used as a read cache.
    #[command(flatten)]
    pub stores: Stores,
    /// Lifetime of a cached product; bounds staleness if an invalidation is lost.
    /// Redis counts it in whole seconds (rounded up).
    #[arg(
        long,
        env = "CACHE_TTL",
        default_value = "5m",
        value_parser = service_kit::duration::positive
    )]
    pub cache_ttl: Duration,
    /// Shared HTTP flags.
    #[command(flatten)]
    pub http: HttpArgs,
    /// The token secret: product and stock writes need an admin token, reserve and
    /// release the order service's own. Required: the service does not start without it.
    #[command(flatten)]
    pub auth: AuthArgs,
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

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn flags_and_defaults_are_the_same_as_before_stores_moved() {
        let cli = Cli::try_parse_from(["catalog-service"]).unwrap_or_else(|e| panic!("{e}"));
        let s = cli.config.stores;
        // Only where the environment does not set them (as a CI job might).
        if std::env::var_os("DATABASE_URL").is_none() {
            assert_eq!(s.database_url, "postgres://postgres:postgres@127.0.0.1:5432/catalog");
        }
        if std::env::var_os("REDIS_URL").is_none() {
            assert_eq!(s.redis_url, "redis://127.0.0.1:6379");
        }
        let cli = Cli::try_parse_from([
            "catalog-service",
            "--database-url",
            "postgres://x/y",
            "--redis-prefix",
            "p:",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cli.config.stores.database_url, "postgres://x/y");
        assert_eq!(cli.config.stores.redis_prefix, "p:");
    }
}
