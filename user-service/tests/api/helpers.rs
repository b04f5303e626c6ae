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
        database_max_connections: 5,
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

/// Asserts the status and that the body is a problem document with that status.
#[track_caller]
pub(crate) fn assert_problem(status: u16, content_type: Option<&str>, body: &serde_json::Value) {
    assert_eq!(content_type, Some("application/problem+json"), "body: {body}");
    assert_eq!(body["status"], status, "body: {body}");
    assert!(body["title"].is_string() && body["detail"].is_string(), "body: {body}");
}

pub(crate) async fn problem_of(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: serde_json::Value = resp.json().await.expect("json body");
    assert_problem(status, ct.as_deref(), &body);
    (status, body)
}
