//! Flags and environment variables for the API and the worker.

use std::time::Duration;

use service_kit::HttpArgs;
use service_kit::auth::AuthArgs;
pub use service_kit::stores::Stores;
use service_kit::stores::default_database;
use service_kit::telemetry::LogFormat;

/// `order-service [FLAGS]` serves the API; `order-service worker [FLAGS]` runs the worker.
#[derive(Debug, clap::Parser)]
#[command(
    name = "order-service",
    version,
    about = "Orders of the demo shop",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to run; the API when absent.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// API configuration.
    #[command(flatten)]
    pub serve: Config,
}

/// Subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Take orders from the queue and fulfil them.
    Worker(WorkerConfig),
}

/// The default database of the API and the worker.
const DATABASE_URL: &str = "postgres://postgres:postgres@127.0.0.1:5432/orders";

/// API configuration.
#[derive(Debug, Clone, clap::Args)]
#[command(mut_arg("database_url", default_database(DATABASE_URL)))]
pub struct Config {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 8003)]
    pub port: u16,
    /// Databases and queue.
    #[command(flatten)]
    pub stores: Stores,
    /// Base URL of the user service.
    #[arg(long, env = "USER_SERVICE_URL", default_value = "http://127.0.0.1:8001")]
    pub user_service_url: String,
    /// Base URL of the catalog service.
    #[arg(long, env = "CATALOG_SERVICE_URL", default_value = "http://127.0.0.1:8002")]
    pub catalog_service_url: String,
    /// Time limit of one attempt of a call to another service.
    #[arg(
        long,
        env = "DOWNSTREAM_TIMEOUT",
        default_value = "2s",
        value_parser = service_kit::duration::positive
    )]
    pub downstream_timeout: Duration,
    /// Time limit of a call with all its retries (jittered backoff on transport errors
    /// and 502/503/504); below the request timeout, so retries never outlast the request.
    #[arg(
        long,
        env = "DOWNSTREAM_DEADLINE",
        default_value = "4s",
        value_parser = service_kit::duration::positive
    )]
    pub downstream_deadline: Duration,
    /// Time one order may spend checking its user and reserving; then it releases what
    /// it took and fails the order (503). Below the request timeout, so that the client
    /// hears how its order ended.
    #[arg(
        long,
        env = "SAGA_TIMEOUT",
        default_value = "8s",
        value_parser = service_kit::duration::positive
    )]
    pub saga_timeout: Duration,
    /// The reconciler of orders.
    #[command(flatten)]
    pub reconcile: ReconcileArgs,
    /// Shared HTTP flags.
    #[command(flatten)]
    pub http: HttpArgs,
    /// The token secret: callers of `/orders` need a token, and the service signs its
    /// own for the catalog's reserve and release. Required: the API does not start
    /// without it. (The worker needs none: it calls no other service.)
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// The reconciler: finishes what a crash, a disconnect or a lost queue left undone.
/// It runs in every API replica (it needs the catalog, and the API is never scaled to
/// zero, unlike the worker); replicas share the work through row locks.
#[derive(Debug, Clone, clap::Args)]
pub struct ReconcileArgs {
    /// Whether this process runs the reconciler.
    #[arg(long = "reconcile", env = "RECONCILE", default_value_t = true, action = clap::ArgAction::Set)]
    pub enabled: bool,
    /// Pause between passes; also how long a failed order is left to the saga that failed
    /// it before the reconciler releases its stock.
    #[arg(
        long,
        env = "RECONCILE_INTERVAL",
        default_value = "5s",
        value_parser = service_kit::duration::positive
    )]
    pub reconcile_interval: Duration,
    /// A `reserving` order without progress for this long has lost its saga (a crash):
    /// it is queued if every line is reserved, otherwise released and failed. Keep it
    /// well above the saga timeout plus one downstream deadline, so a live saga is left alone.
    #[arg(
        long,
        env = "RECONCILE_STUCK_AFTER",
        default_value = "1m",
        value_parser = service_kit::duration::positive
    )]
    pub reconcile_stuck_after: Duration,
    /// A `pending` order not seen on the queue for this long is looked up in Redis and
    /// queued again if the queue lost it; the worker's visibility timeout is a good value.
    #[arg(
        long,
        env = "RECONCILE_REQUEUE_AFTER",
        default_value = "30s",
        value_parser = service_kit::duration::positive
    )]
    pub reconcile_requeue_after: Duration,
    /// Orders taken per kind of repair per pass.
    #[arg(long, env = "RECONCILE_BATCH", default_value_t = 100)]
    pub reconcile_batch: i64,
}

impl Default for ReconcileArgs {
    fn default() -> Self {
        Self {
            enabled: true,
            reconcile_interval: Duration::from_secs(5),
            reconcile_stuck_after: Duration::from_secs(60),
            reconcile_requeue_after: Duration::from_secs(30),
            reconcile_batch: 100,
        }
    }
}

/// Worker configuration.
#[derive(Debug, Clone, clap::Args)]
#[command(mut_arg("database_url", default_database(DATABASE_URL)))]
pub struct WorkerConfig {
    /// Databases and queue.
    #[command(flatten)]
    pub stores: Stores,
    /// Address of the worker's `/metrics`, `/health` and `/ready`.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port of the worker's `/metrics`, `/health` and `/ready`.
    #[arg(long, env = "METRICS_PORT", default_value_t = 9103)]
    pub metrics_port: u16,
    /// Orders processed at once by this worker.
    #[arg(long, env = "WORKER_CONCURRENCY", default_value_t = 2)]
    pub concurrency: usize,
    /// Rounds of hashing per order item: the real CPU work that makes load visible.
    #[arg(long, env = "WORK_ROUNDS", default_value_t = 200_000)]
    pub work_rounds: u64,
    /// A job taken but not acknowledged for this long goes back on the queue.
    #[arg(
        long,
        env = "VISIBILITY_TIMEOUT",
        default_value = "30s",
        value_parser = service_kit::duration::positive
    )]
    pub visibility_timeout: Duration,
    /// Takes of one order after which it is marked failed (the API's reconciler then
    /// releases its stock).
    #[arg(long, env = "MAX_ATTEMPTS", default_value_t = 5)]
    pub max_attempts: i32,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn reconciler_defaults_suit_production_and_match_default() {
        let cli = Cli::try_parse_from(["order-service"]).unwrap_or_else(|e| panic!("{e}"));
        let r = cli.serve.reconcile;
        let d = ReconcileArgs::default();
        assert_eq!(
            (
                r.enabled,
                r.reconcile_interval,
                r.reconcile_stuck_after,
                r.reconcile_requeue_after,
                r.reconcile_batch
            ),
            (
                d.enabled,
                d.reconcile_interval,
                d.reconcile_stuck_after,
                d.reconcile_requeue_after,
                d.reconcile_batch
            )
        );
        assert!(
            r.reconcile_stuck_after > cli.serve.saga_timeout + cli.serve.downstream_deadline,
            "a live saga is never taken for a stuck one"
        );
        assert!(cli.serve.saga_timeout < cli.serve.http.request_timeout);
        let off = Cli::try_parse_from(["order-service", "--reconcile", "false"]).unwrap_or_else(|e| panic!("{e}"));
        assert!(!off.serve.reconcile.enabled);
    }

    #[test]
    fn api_and_worker_default_to_the_orders_database() {
        // Only where the environment does not set it (as a CI job might).
        if std::env::var_os("DATABASE_URL").is_some() {
            return;
        }
        let api = Cli::try_parse_from(["order-service"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(api.serve.stores.database_url, DATABASE_URL);
        let worker = Cli::try_parse_from(["order-service", "worker"]).unwrap_or_else(|e| panic!("{e}"));
        let Some(Command::Worker(w)) = worker.command else {
            panic!("not the worker")
        };
        assert_eq!(w.stores.database_url, DATABASE_URL);
    }
}
