//! Test helpers (feature `testing`): a fresh database per test, a Redis key prefix
//! per test, and a private Redis server that a test may stop and start again.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub mod contract;
mod prometheus;
pub use prometheus::PrometheusServer;

/// Admin URL of the test PostgreSQL server (`TEST_DATABASE_URL`).
pub fn admin_database_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into())
}

/// URL of the shared test Redis server (`TEST_REDIS_URL`).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A key prefix no other test uses.
pub fn redis_prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4().simple())
}

/// An empty database with a unique name, dropped when this value is: keep it for as long
/// as the test runs (in its app or platform struct), and the database goes with the test,
/// passed or panicked.
pub struct TestDatabase {
    /// Its URL.
    pub url: String,
    name: String,
}

impl TestDatabase {
    /// Creates the database.
    pub async fn create(label: &str) -> Self {
        use sqlx::Connection as _;
        let admin = admin_database_url();
        let name = format!("test_{label}_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("test PostgreSQL is not reachable: run scripts/deps.sh");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Self {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.name);
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread with
        // a runtime of its own does the work, and the test waits for it.
        let dropper = std::thread::spawn(move || {
            use sqlx::Connection as _;
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async {
                let Ok(mut conn) = sqlx::PgConnection::connect(&admin_database_url()).await else {
                    return;
                };
                // FORCE ends the connections the test's pools still hold.
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await {
                    eprintln!("could not drop test database {name}: {e}");
                }
            });
        });
        let _ = dropper.join();
    }
}

/// Reads a response that must be a problem document; returns its status and body.
pub async fn problem_of(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: serde_json::Value = resp.json().await.expect("json body");
    assert_eq!(ct.as_deref(), Some("application/problem+json"), "body: {body}");
    assert_eq!(body["status"], status, "body: {body}");
    assert!(body["title"].is_string() && body["detail"].is_string(), "body: {body}");
    (status, body)
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A Redis server of the test's own, on its own port, without persistence.
pub struct RedisServer {
    /// The port it listens on, kept across restarts.
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts `redis-server` and waits until it answers.
    pub fn start() -> Self {
        let mut s = Self {
            port: free_port(),
            child: None,
        };
        s.restart();
        s
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops the server (data is lost; the test wants a dependency that is down).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Freezes the server (`SIGSTOP`): connections stay open and nothing answers, as
    /// when Redis stalls. `resume` thaws it.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused server (`SIGCONT`).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("redis-server is not running").id();
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} {pid} failed");
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is not installed: run scripts/deps.sh");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start on port {}", self.port);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP endpoint that accepts connections and never answers: a stalled Redis (or
/// any stalled server) without pausing the shared one that other tests use.
pub struct StalledServer {
    /// The port it listens on.
    pub port: u16,
}

impl StalledServer {
    /// Starts accepting on a free loopback port, in a thread that holds every
    /// connection open and never reads from it. The thread lives as long as the test
    /// process.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for conn in listener.incoming() {
                held.extend(conn.ok());
            }
        });
        Self { port }
    }

    /// Its URL as a Redis URL.
    pub fn redis_url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

/// The token secret every test service is started with.
pub const AUTH_SECRET: &str = "test-secret-of-the-platform-tests-0123456789";

/// The key of [`AUTH_SECRET`].
pub fn auth_key() -> crate::auth::AuthKey {
    crate::auth::AuthKey::from_secret(AUTH_SECRET.as_bytes()).expect("test secret is long enough")
}

/// An `Authorization` header value for `subject` with `role`, valid for ten minutes.
pub fn bearer(subject: &str, role: crate::auth::Role) -> String {
    let token = auth_key()
        .issue(subject, role, Duration::from_secs(600))
        .expect("issue test token");
    format!("Bearer {token}")
}

/// An admin's `Authorization` header value.
pub fn admin_bearer() -> String {
    bearer("admin", crate::auth::Role::Admin)
}

/// A token of the test key for `subject` with `role` that expired an hour ago (well past
/// the verifier's leeway), as an `Authorization` value.
pub fn expired_bearer(subject: &str, role: crate::auth::Role) -> String {
    let now = crate::auth::now_seconds();
    let claims = crate::auth::Claims {
        sub: subject.to_owned(),
        role,
        iat: now - 7200,
        exp: now - 3600,
    };
    format!("Bearer {}", auth_key().sign(&claims).expect("sign test token"))
}

/// A well-formed, unexpired token signed with another key than the tests' services have.
pub fn forged_bearer(subject: &str, role: crate::auth::Role) -> String {
    let other = crate::auth::AuthKey::from_secret(b"not-the-platform-secret-0123456789abcdef").expect("long enough");
    let token = other.issue(subject, role, Duration::from_secs(600)).expect("issue");
    format!("Bearer {token}")
}

/// A client that sends `authorization` with every request (a request's own header wins).
pub fn client_with(authorization: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = reqwest::header::HeaderValue::from_str(authorization).expect("a header value");
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}
