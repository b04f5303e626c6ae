//! Starts the service on port 0 with its own database and Redis key prefix, and the
//! clients that call it: anonymous, as an admin, and as the order service.

use std::time::Duration;

use catalog_service::Config;
use serde_json::{Value, json};
use service_kit::auth::{AuthArgs, Role};
use service_kit::stores::Stores;
use service_kit::{CacheArgs, HttpArgs, testing};
use uuid::Uuid;

pub(crate) struct TestApp {
    pub(crate) base: String,
    /// Sends no token: the open reads, and the refusals.
    pub(crate) client: reqwest::Client,
    /// Sends an admin token: product and stock writes.
    pub(crate) admin: reqwest::Client,
    /// Sends the order service's token: reserve and release.
    pub(crate) service: reqwest::Client,
    /// The Redis key prefix of this app, to reach its cache entries.
    pub(crate) redis_prefix: String,
    /// Its database and Redis, for a second replica (`spawn_replica`).
    pub(crate) database_url: String,
    redis_url: String,
    /// Dropped with the app; a replica shares the first app's and holds none.
    database: Option<testing::TestDatabase>,
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates a product and returns its id.
    pub(crate) async fn product(&self, sku: &str, price_cents: i64, stock: i64) -> Uuid {
        let body = json!({"sku": sku, "name": sku, "category": "test", "price_cents": price_cents, "stock": stock});
        let resp = self.admin.post(self.url("/products")).json(&body).send().await.unwrap();
        assert_eq!(resp.status(), 201);
        let v: Value = resp.json().await.unwrap();
        v["id"].as_str().unwrap().parse().unwrap()
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// `/metrics` as text.
    pub(crate) async fn metrics(&self) -> String {
        self.get("/metrics").await.text().await.unwrap()
    }

    /// `POST /products/{id}/stock` with `{"delta": delta}`.
    pub(crate) async fn add_stock(&self, id: Uuid, delta: i64) -> reqwest::Response {
        self.admin
            .post(self.url(&format!("/products/{id}/stock")))
            .json(&json!({ "delta": delta }))
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn stock(&self, id: Uuid) -> i64 {
        let v: Value = self
            .client
            .get(self.url(&format!("/products/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["stock"].as_i64().unwrap()
    }

    pub(crate) async fn reserve(&self, id: Uuid, order: Uuid, quantity: i64) -> reqwest::Response {
        let body = json!({"order_id": order, "quantity": quantity});
        self.service
            .post(self.url(&format!("/products/{id}/reserve")))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn release(&self, id: Uuid, order: Uuid) -> reqwest::Response {
        let body = json!({"order_id": order});
        self.service
            .post(self.url(&format!("/products/{id}/release")))
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(testing::redis_url(), CacheArgs::default()).await
}

/// An app whose cache is at `redis_url` (a stalled or dead endpoint for some tests).
pub(crate) async fn spawn_app_with(redis_url: String, cache: CacheArgs) -> TestApp {
    let database = testing::TestDatabase::create("catalog").await;
    let mut app = start(database.url.clone(), redis_url, testing::redis_prefix(), cache).await;
    app.database = Some(database);
    app
}

/// A second replica of `app`: the same database, Redis and key prefix.
pub(crate) async fn spawn_replica(app: &TestApp) -> TestApp {
    start(
        app.database_url.clone(),
        app.redis_url.clone(),
        app.redis_prefix.clone(),
        CacheArgs::default(),
    )
    .await
}

/// The configuration of a test app: port 0, the test token secret.
pub(crate) fn config(database_url: String, redis_url: String, redis_prefix: String) -> Config {
    Config {
        port: 0,
        stores: Stores {
            database_url,
            // A loaded 2-core machine opens connections slowly: wait longer than in production.
            pool: service_kit::stores::PoolArgs {
                max_connections: 20,
                acquire_timeout: Duration::from_secs(15),
            },
            redis_url,
            redis_prefix,
        },
        cache_ttl: Duration::from_secs(60),
        http: HttpArgs::default(),
        auth: AuthArgs::with_secret(testing::AUTH_SECRET),
    }
}

async fn start(database_url: String, redis_url: String, redis_prefix: String, cache: CacheArgs) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        service_kit::telemetry::init(service_kit::telemetry::LogFormat::Text, "debug");
    }
    let config = config(database_url.clone(), redis_url.clone(), redis_prefix.clone());
    let server = catalog_service::build_with(config, &cache)
        .await
        .expect("build catalog-service");
    let base = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run(std::future::pending()));
    TestApp {
        base,
        client: reqwest::Client::new(),
        admin: client_with(&testing::admin_bearer()),
        service: client_with(&testing::bearer("order-service", Role::Service)),
        redis_prefix,
        database_url,
        redis_url,
        database: None,
    }
}

pub(crate) use service_kit::testing::{client_with, expired_bearer, forged_bearer};
