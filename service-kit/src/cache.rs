//! Cache-aside over Redis with JSON values. Redis is an optimisation here, never the
//! source of truth: when it fails, reads fall through to the database and the failure
//! is counted, not returned to the client.

use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A JSON cache under one key prefix, with one TTL for every entry.
#[derive(Clone)]
pub struct JsonCache {
    conn: ConnectionManager,
    prefix: String,
    ttl_seconds: u64,
    service: &'static str,
}

impl JsonCache {
    /// `prefix` namespaces every key (a test passes its own); `ttl_seconds` bounds
    /// how long a missed invalidation can serve stale data.
    pub fn new(conn: ConnectionManager, prefix: String, ttl_seconds: u64, service: &'static str) -> Self {
        Self {
            conn,
            prefix,
            ttl_seconds: ttl_seconds.max(1),
            service,
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn count(&self, result: &'static str) {
        metrics::counter!("cache_requests_total", "service" => self.service, "result" => result).increment(1);
    }

    /// The cached value, or `None` on a miss, a Redis error or an unreadable entry.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let mut conn = self.conn.clone();
        match conn.get::<_, Option<String>>(self.key(key)).await {
            Ok(Some(json)) => match serde_json::from_str(&json) {
                Ok(v) => {
                    self.count("hit");
                    Some(v)
                }
                Err(e) => {
                    tracing::warn!(error.message = %e, key, "unreadable cache entry, ignoring it");
                    self.count("miss");
                    None
                }
            },
            Ok(None) => {
                self.count("miss");
                None
            }
            Err(e) => {
                tracing::warn!(error.message = %e, "cache read failed, using the database");
                self.count("error");
                None
            }
        }
    }

    /// Stores a value with the TTL; a failure is logged and otherwise ignored.
    pub async fn put<T: Serialize>(&self, key: &str, value: &T) {
        let Ok(json) = serde_json::to_string(value) else { return };
        let mut conn = self.conn.clone();
        if let Err(e) = conn.set_ex::<_, _, ()>(self.key(key), json, self.ttl_seconds).await {
            tracing::warn!(error.message = %e, "cache write failed");
        }
    }

    /// Drops an entry after a change; on failure the TTL bounds the staleness.
    pub async fn invalidate(&self, key: &str) {
        let mut conn = self.conn.clone();
        if let Err(e) = conn.del::<_, ()>(self.key(key)).await {
            tracing::warn!(error.message = %e, key, "cache invalidation failed, entry expires by ttl");
        }
    }
}
