//! Starts the service on port 0 with its own database and Redis key prefix.

use std::time::Duration;

use service_kit::stores::Stores;
use service_kit::{CacheArgs, HttpArgs, testing};
use user_service::Config;

pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    /// The Redis key prefix of this app, to reach its cache entries.
    pub(crate) redis_prefix: String,
    /// Its database and Redis, for a second replica (`spawn_replica`).
    database_url: String,
    redis_url: String,
    /// Dropped with the app; a replica shares the first app's and holds none.
    database: Option<testing::TestDatabase>,
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Registers a user and returns its body.
    pub(crate) async fn user(&self, email: &str) -> serde_json::Value {
        let resp = self.create_user(email, "Someone").await;
        assert_eq!(resp.status(), 201);
        resp.json().await.expect("user body")
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request failed")
    }

    /// `/metrics` as text.
    pub(crate) async fn metrics(&self) -> String {
        self.get("/metrics").await.text().await.expect("metrics text")
    }

    pub(crate) async fn create_user(&self, email: &str, name: &str) -> reqwest::Response {
        self.client
            .post(self.url("/users"))
            .json(&serde_json::json!({ "email": email, "name": name }))
            .send()
            .await
            .expect("request failed")
    }
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(testing::redis_url(), CacheArgs::default()).await
}

/// An app whose cache is at `redis_url` (a stalled or dead endpoint for some tests).
pub(crate) async fn spawn_app_with(redis_url: String, cache: CacheArgs) -> TestApp {
    let database = testing::TestDatabase::create("users").await;
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

async fn start(database_url: String, redis_url: String, redis_prefix: String, cache: CacheArgs) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        service_kit::telemetry::init(service_kit::telemetry::LogFormat::Text, "debug");
    }
    let config = Config {
        port: 0,
        stores: Stores {
            database_url: database_url.clone(),
            // A loaded 2-core machine opens connections slowly: wait longer than in production.
            pool: service_kit::stores::PoolArgs {
                max_connections: 5,
                acquire_timeout: Duration::from_secs(15),
            },
            redis_url: redis_url.clone(),
            redis_prefix: redis_prefix.clone(),
        },
        cache_ttl: Duration::from_secs(60),
        http: HttpArgs::default(),
    };
    let server = user_service::build_with(config, &cache)
        .await
        .expect("build user-service");
    let base = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run(std::future::pending()));
    TestApp {
        base,
        client: reqwest::Client::new(),
        redis_prefix,
        database_url,
        redis_url,
        database: None,
    }
}
