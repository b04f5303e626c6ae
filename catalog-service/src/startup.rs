//! Wiring: connect, migrate, build the router, bind.
//!
//! Redis is only a cache here: it is an optional dependency of `/ready` (a cache
//! outage degrades the service, it does not take it out of its Service), and the
//! cache's deadline and circuit breaker keep a stalled Redis from slowing reads.
//!
//! The token key is read first, so that a service without a secret refuses to start
//! before it touches a store.

use axum::Router;
use service_kit::auth::AuthKey;
use service_kit::{CacheArgs, JsonCache, Readiness, Server};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::Config;

/// The `service` label on this service's metrics.
pub const SERVICE: &str = "catalog-service";

/// The schema of the service's database.
static MIGRATOR: Migrator = sqlx::migrate!();

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The service's own database.
    pub db: PgPool,
    /// Products by id.
    pub cache: JsonCache,
    /// Verifies tokens; [`app`] hands it to the `Caller` and `Admin` extractors.
    pub auth: AuthKey,
}

/// [`build_with`] the default cache deadline and breaker.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    build_with(config, &CacheArgs::default()).await
}

/// Connects to PostgreSQL and Redis, runs migrations and binds the listener.
pub async fn build_with(config: Config, cache_args: &CacheArgs) -> anyhow::Result<Server> {
    config.stores.check_exposure(&config.http.host)?;
    let auth = config.auth.key()?;
    let db = config.stores.database(&MIGRATOR).await?;
    let cache = JsonCache::connect(
        &config.stores.redis_url,
        config.stores.redis_prefix.clone(),
        config.cache_ttl,
        cache_args,
        SERVICE,
    )?;
    let readiness = Readiness::new().postgres(db.clone()).cache("redis", cache.clone());
    let router = app(AppState { db, cache, auth }, readiness, &config.http);
    Server::bind(&config.http.host, config.port, router).await
}

/// The whole router, usable without a socket: the resource routes with the token key,
/// `/openapi.json`, and the standard routes and layers.
pub fn app(state: AppState, readiness: Readiness, http: &service_kit::HttpArgs) -> Router {
    let key = state.auth.layer();
    let routes = crate::routes::router()
        .with_state(state)
        .layer(key)
        .merge(crate::routes::openapi());
    service_kit::http::finish(SERVICE, routes, readiness, http)
}
