//! Wiring of the API: read the token key, connect, migrate, build the router, bind; the
//! reconciler runs beside the server for as long as it does. The key comes first, so
//! that an API without a secret refuses to start before it touches a store.

use std::future::Future;

use axum::Router;
use service_kit::{Readiness, Server};
use sqlx::migrate::Migrator;

use crate::clients::Downstream;
use crate::config::Config;
use crate::queue::Queue;
use crate::reconcile::Reconciler;
use crate::state::{AppState, SERVICE};

/// The API server and, unless disabled, its reconciler.
pub struct App {
    server: Server,
    reconciler: Option<Reconciler>,
}

impl App {
    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Serves until `shutdown` resolves, reconciling meanwhile.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let reconciler = self.reconciler.map(|r| {
            let mut stop = stop_rx;
            tokio::spawn(r.run(async move {
                let _ = stop.wait_for(|s| *s).await;
            }))
        });
        let served = self.server.run(shutdown).await;
        let _ = stop_tx.send(true);
        if let Some(task) = reconciler {
            let _ = task.await;
        }
        served
    }
}

/// The schema of the service's database; the API and the worker both migrate it.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Connects, migrates and binds the API.
pub async fn build(config: Config) -> anyhow::Result<App> {
    config.stores.check_exposure(&config.http.host)?;
    let auth = config.auth.key()?;
    let (db, redis) = config.stores.connect(&MIGRATOR).await?;
    let downstream = Downstream::new(
        &config.user_service_url,
        &config.catalog_service_url,
        config.downstream_timeout,
        config.downstream_deadline,
        auth.clone(),
    )?;
    let queue = Queue::new(redis.clone(), &config.stores.redis_prefix);
    let readiness = Readiness::new().postgres(db.clone()).redis(redis);
    let state = AppState {
        db,
        downstream,
        queue,
        saga_timeout: config.saga_timeout,
        auth,
    };
    let r = &config.reconcile;
    if r.reconcile_stuck_after <= config.saga_timeout + config.downstream_deadline {
        tracing::warn!(
            stuck_after = ?r.reconcile_stuck_after,
            "RECONCILE_STUCK_AFTER is within a saga's running time: live sagas may be compensated"
        );
    }
    let reconciler = r.enabled.then(|| Reconciler::new(state.clone(), r));
    let router = app(state, readiness, &config.http);
    let server = Server::bind(&config.http.host, config.port, router).await?;
    Ok(App { server, reconciler })
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
