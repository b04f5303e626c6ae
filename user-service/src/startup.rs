//! Wiring: connect, migrate, build the router, bind.
//!
//! The token key is read first: without a secret the service refuses to start, before
//! it touches a store.
//!
//! Redis is only a cache here: it is an optional dependency of `/ready` (a cache
//! outage degrades the service, it does not take it out of its Service), and the
//! cache's deadline and circuit breaker keep a stalled Redis from slowing reads.

use std::time::Duration;

use axum::Router;
use service_kit::auth::AuthKey;
use service_kit::{CacheArgs, JsonCache, Readiness, Server};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::Config;
use crate::password::DummyHash;

/// The `service` label on this service's metrics.
pub const SERVICE: &str = "user-service";

/// The schema of the service's database.
static MIGRATOR: Migrator = sqlx::migrate!();

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The service's own database.
    pub db: PgPool,
    /// Users by id.
    pub cache: JsonCache,
    /// What logins need.
    pub tokens: Tokens,
}

/// What `POST /auth/token` needs to answer.
#[derive(Clone, Debug)]
pub struct Tokens {
    /// Signs the tokens (and, through its layer, verifies the callers').
    pub key: AuthKey,
    /// Lifetime of an issued token.
    pub ttl: Duration,
    /// Checked when the email is unknown, so that such a login takes as long.
    pub dummy: DummyHash,
}

/// [`build_with`] the default cache deadline and breaker.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    build_with(config, &CacheArgs::default()).await
}

/// Connects to PostgreSQL and Redis, runs migrations and binds the listener.
pub async fn build_with(config: Config, cache_args: &CacheArgs) -> anyhow::Result<Server> {
    config.stores.check_exposure(&config.http.host)?;
    let key = config.auth.key()?;
    let tokens = Tokens {
        key,
        ttl: config.token_ttl,
        dummy: DummyHash::new().await?,
    };
    let db = config.stores.database(&MIGRATOR).await?;
    let cache = JsonCache::connect(
        &config.stores.redis_url,
        config.stores.redis_prefix.clone(),
        config.cache_ttl,
        cache_args,
        SERVICE,
    )?;
    let readiness = Readiness::new().postgres(db.clone()).cache("redis", cache.clone());
    let router = app(AppState { db, cache, tokens }, readiness, &config.http);
    Server::bind(&config.http.host, config.port, router).await
}

/// The whole router, usable without a socket.
pub fn app(state: AppState, readiness: Readiness, http: &service_kit::HttpArgs) -> Router {
    let key = state.tokens.key.clone();
    let routes = crate::routes::router()
        .with_state(state)
        // The `Caller` and `Admin` extractors read the key from here.
        .layer(key.layer())
        .merge(service_kit::openapi::route(&crate::routes::openapi()));
    service_kit::http::finish(SERVICE, routes, readiness, http)
}
