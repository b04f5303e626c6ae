//! Starts the service on port 0 with its own database and Redis key prefix, and the
//! platform tests' token secret.

use std::time::Duration;

use service_kit::auth::AuthArgs;
use service_kit::stores::Stores;
use service_kit::{CacheArgs, HttpArgs, testing};
use user_service::Config;

/// The password `TestApp::user` registers users with.
pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) struct TestApp {
    pub(crate) base: String,
    /// Sends an admin token with every request that sets no `Authorization` of its own:
    /// the tests of caching, ETags and validation are not about who may call.
    pub(crate) client: reqwest::Client,
    /// Sends no token.
    pub(crate) anonymous: reqwest::Client,
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
        self.anonymous
            .post(self.url("/users"))
            .json(&serde_json::json!({ "email": email, "name": name, "password": PASSWORD }))
            .send()
            .await
            .expect("request failed")
    }

    /// `POST /auth/token`.
    pub(crate) async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.anonymous
            .post(self.url("/auth/token"))
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("request failed")
    }

    /// Registers a user and logs them in: their id and `Authorization` header value.
    pub(crate) async fn customer(&self, email: &str) -> (String, String) {
        let user = self.user(email).await;
        let resp = self.login(email, PASSWORD).await;
        assert_eq!(resp.status(), 200);
        let body: serde_json::Value = resp.json().await.expect("token body");
        let token = body["access_token"].as_str().expect("access_token");
        let id = user["id"].as_str().expect("id").to_owned();
        (id, format!("Bearer {token}"))
    }

    /// Sends `method path` with `authorization` (none when `None`) and an optional
    /// JSON body.
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        authorization: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut req = self.anonymous.request(method, self.url(path));
        if let Some(value) = authorization {
            req = req.header(reqwest::header::AUTHORIZATION, value);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request failed")
    }
}

/// The test app's configuration: its stores and the tests' secret.
pub(crate) fn config(database_url: String, redis_url: String, redis_prefix: String) -> Config {
    Config {
        port: 0,
        stores: Stores {
            database_url,
            // A loaded 2-core machine opens connections slowly: wait longer than in production.
            pool: service_kit::stores::PoolArgs {
                max_connections: 5,
                acquire_timeout: Duration::from_secs(15),
            },
            redis_url,
            redis_prefix,
        },
        cache_ttl: Duration::from_secs(60),
        http: HttpArgs::default(),
        auth: AuthArgs::with_secret(testing::AUTH_SECRET),
        token_ttl: Duration::from_secs(15 * 60),
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
    let config = config(database_url.clone(), redis_url.clone(), redis_prefix.clone());
    let server = user_service::build_with(config, &cache)
        .await
        .expect("build user-service");
    let base = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run(std::future::pending()));
    let mut admin = reqwest::header::HeaderMap::new();
    admin.insert(
        reqwest::header::AUTHORIZATION,
        testing::admin_bearer().parse().expect("header value"),
    );
    TestApp {
        base,
        client: reqwest::Client::builder()
            .default_headers(admin)
            .build()
            .expect("client"),
        anonymous: reqwest::Client::new(),
        redis_prefix,
        database_url,
        redis_url,
        database: None,
    }
}
