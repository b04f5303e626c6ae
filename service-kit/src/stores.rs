//! Connections to PostgreSQL and Redis with bounded waits, so that a dependency that
//! is down turns into a quick error (and a 503) instead of a hung request.

use std::time::Duration;

use anyhow::Context as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;

/// Where a service's data lives: its own PostgreSQL database and a Redis (a read cache
/// for the user and catalog services, the work queue for the order service). The
/// database URL has no default here: each service sets its own database's with
/// `#[command(mut_arg("database_url", ...))]` (see [`default_database`]).
#[derive(Debug, Clone, clap::Args)]
pub struct Stores {
    /// PostgreSQL database owned by this service.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Connection pool sizing.
    #[command(flatten)]
    pub pool: PoolArgs,
    /// Redis: the read cache, or the order service's work queue.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
    /// Prefix of every Redis key (tests use their own).
    #[arg(long, env = "REDIS_PREFIX", default_value = "")]
    pub redis_prefix: String,
}

/// Gives `--database-url` a default, for `mut_arg` on the service's configuration.
pub fn default_database(url: &'static str) -> impl FnOnce(clap::Arg) -> clap::Arg {
    move |arg| arg.required(false).default_value(url)
}

impl Stores {
    /// [`crate::exposure::check`]: off loopback, no default PostgreSQL password and no
    /// Redis without one. Called before connecting, with the address the service listens on.
    pub fn check_exposure(&self, host: &str) -> anyhow::Result<()> {
        crate::exposure::check(host, &self.database_url, &self.redis_url)
    }

    /// Opens the pool and runs the service's migrations.
    pub async fn database(&self, migrator: &Migrator) -> anyhow::Result<PgPool> {
        let db = postgres(&self.database_url, &self.pool).await?;
        migrator.run(&db).await.context("cannot run migrations")?;
        Ok(db)
    }

    /// [`Stores::database`], and opens Redis (lazily: see [`redis`]).
    pub async fn connect(&self, migrator: &Migrator) -> anyhow::Result<(PgPool, ConnectionManager)> {
        let db = self.database(migrator).await?;
        Ok((db, redis(&self.redis_url)?))
    }
}

/// Pool sizing, shared by every service that owns a database.
#[derive(Debug, Clone, clap::Args)]
pub struct PoolArgs {
    /// Connections per process; the server sees this times the replica count, which
    /// is why the default is small.
    #[arg(
        long = "database-max-connections",
        env = "DATABASE_MAX_CONNECTIONS",
        default_value_t = 10
    )]
    pub max_connections: u32,
    /// How long a request waits for a free connection before it fails with 503.
    #[arg(
        long = "database-acquire-timeout",
        env = "DATABASE_ACQUIRE_TIMEOUT",
        default_value = "3s",
        value_parser = crate::duration::positive
    )]
    pub acquire_timeout: Duration,
}

/// Opens a pool.
pub async fn postgres(url: &str, pool: &PoolArgs) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(pool.max_connections)
        .acquire_timeout(pool.acquire_timeout)
        .connect(url)
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {}", redact(url)))
}

/// A Redis connection that reconnects by itself. It connects lazily, so a service
/// starts (and reports not ready) while Redis is down, instead of crashing.
pub fn redis(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url).with_context(|| format!("invalid Redis URL {}", redact(url)))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(200));
    ConnectionManager::new_lazy_with_config(client, config).context("cannot create the Redis connection manager")
}

/// Hides the password of a connection URL for log messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => match url[scheme + 3..at].find(':') {
            Some(colon) => format!("{}:***{}", &url[..scheme + 3 + colon], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
