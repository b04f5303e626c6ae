//! Starts the service on port 0 with its own database and Redis key prefix.

use service_kit::{HttpArgs, testing};
use user_service::Config;

pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
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
    if std::env::var("TEST_LOG").is_ok() {
        service_kit::telemetry::init(service_kit::telemetry::LogFormat::Text, "debug");
    }
    let config = Config {
        port: 0,
        database_url: testing::fresh_database("users").await,
        // A loaded 2-core machine opens connections slowly: wait longer than in production.
        pool: service_kit::stores::PoolArgs {
            max_connections: 5,
            acquire_timeout_ms: 15_000,
        },
        redis_url: testing::redis_url(),
        redis_prefix: testing::redis_prefix(),
        cache_ttl_seconds: 60,
        http: HttpArgs::default(),
    };
    let server = user_service::build(config).await.expect("build user-service");
    let base = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run(std::future::pending()));
    TestApp {
        base,
        client: reqwest::Client::new(),
    }
}
