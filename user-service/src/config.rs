//! Flags and environment variables, with defaults that work on one machine.

use std::time::Duration;

use service_kit::auth::AuthArgs;
use service_kit::stores::{Stores, default_database};
use service_kit::{CacheArgs, HttpArgs};

/// User-service configuration.
#[derive(Debug, Clone, clap::Args)]
#[command(mut_arg(
    "database_url",
    default_database("postgres://postgres:postgres@127.0.0.1:5432/users")
))]
pub struct Config {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 8001)]
    pub port: u16,
    /// The database, and Redis used as a read cache.
    #[command(flatten)]
    pub stores: Stores,
    /// Lifetime of a cached user; bounds staleness if an invalidation is lost.
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
    /// The token secret: the service refuses to start without one.
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Lifetime of the tokens `POST /auth/token` issues. Short, since a token cannot be
    /// revoked: a deleted user's token works until it expires.
    #[arg(
        long,
        env = "TOKEN_TTL",
        default_value = "15m",
        value_parser = service_kit::duration::positive
    )]
    pub token_ttl: Duration,
}

impl Config {
    /// The flags' defaults on any free port (0), with `stores` and `auth`: for code that
    /// starts the service itself (other services' tests), so that a field added later
    /// does not break it.
    pub fn new(stores: Stores, auth: AuthArgs) -> Self {
        Self {
            port: 0,
            stores,
            cache_ttl: DEFAULT_CACHE_TTL,
            http: HttpArgs::default(),
            auth,
            token_ttl: DEFAULT_TOKEN_TTL,
        }
    }
}

/// `CACHE_TTL`'s default.
const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(5 * 60);
/// `TOKEN_TTL`'s default.
const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// The command line: the configuration and the cache's deadline and breaker. The
/// cache tuning sits beside `Config` rather than in it so that code that builds a
/// `Config` field by field (the order service's tests start this service) keeps
/// compiling; `build` uses the defaults.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "user-service", version, about = "Users of the demo shop")]
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
        let cli = Cli::try_parse_from(["user-service"]).unwrap_or_else(|e| panic!("{e}"));
        let s = cli.config.stores;
        // Only where the environment does not set them (as a CI job might).
        if std::env::var_os("DATABASE_URL").is_none() {
            assert_eq!(s.database_url, "postgres://postgres:postgres@127.0.0.1:5432/users");
        }
        if std::env::var_os("REDIS_URL").is_none() {
            assert_eq!(s.redis_url, "redis://127.0.0.1:6379");
        }
        if std::env::var_os("TOKEN_TTL").is_none() && std::env::var_os("CACHE_TTL").is_none() {
            // `Config::new` and the flags agree.
            let new = Config::new(s.clone(), AuthArgs::default());
            assert_eq!(cli.config.token_ttl, new.token_ttl);
            assert_eq!(cli.config.cache_ttl, new.cache_ttl);
        }
        let cli = Cli::try_parse_from([
            "user-service",
            "--database-url",
            "postgres://x/y",
            "--redis-prefix",
            "p:",
            "--token-ttl",
            "2m",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cli.config.stores.database_url, "postgres://x/y");
        assert_eq!(cli.config.stores.redis_prefix, "p:");
        assert_eq!(cli.config.token_ttl, Duration::from_secs(120));
        assert!(Cli::try_parse_from(["user-service", "--token-ttl", "0s"]).is_err());
    }
}
