//! Wiring of the API: connect, migrate, build the router, bind.

use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use service_kit::{Readiness, Server};
use sqlx::PgPool;

use crate::clients::Downstream;
use crate::config::{Config, Stores};
use crate::queue::Queue;

/// The `service` label on the API's metrics.
pub const SERVICE: &str = "order-service";

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The service's own database.
    pub db: PgPool,
    /// The user and catalog services.
    pub downstream: Downstream,
    /// The work queue.
    pub queue: Queue,
}

/// Connects to the database (migrating it) and to Redis; shared with the worker.
pub async fn connect(stores: &Stores) -> anyhow::Result<(PgPool, redis::aio::ConnectionManager)> {
    let db = service_kit::stores::postgres(&stores.database_url, &stores.pool).await?;
    sqlx::migrate!().run(&db).await.context("cannot run migrations")?;
    let redis = service_kit::stores::redis(&stores.redis_url)?;
    Ok((db, redis))
}

/// Connects, migrates and binds the API.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    let (db, redis) = connect(&config.stores).await?;
    let downstream = Downstream::new(
        &config.user_service_url,
        &config.catalog_service_url,
        Duration::from_millis(config.downstream_timeout_ms),
        config.downstream_retries,
    )?;
    let queue = Queue::new(redis.clone(), &config.stores.redis_prefix);
    let readiness = Readiness::new().postgres(db.clone()).redis(redis);
    let router = app(AppState { db, downstream, queue }, readiness, &config.http);
    Server::bind(&config.http.host, config.port, router).await
}

/// The whole router, usable without a socket.
pub fn app(state: AppState, readiness: Readiness, http: &service_kit::HttpArgs) -> Router {
    service_kit::http::finish(SERVICE, crate::routes::router().with_state(state), readiness, http)
}
