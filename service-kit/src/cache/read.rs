//! The read path: process memory first, then Redis, and what Redis answers or accepts
//! kept in memory (see `local` for when that is allowed).

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use redis::AsyncCommands as _;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::entry::{self, Entry};
use super::{Failure, JsonCache};

/// A cached value as stored: its version and its JSON, ready to send as a body
/// without decoding it first.
#[derive(Debug, Clone)]
pub struct CachedJson {
    /// The version of the row it was read from.
    pub version: i64,
    /// The value as JSON, exactly as `serde_json` wrote it.
    pub json: Bytes,
}

impl IntoResponse for CachedJson {
    fn into_response(self) -> Response {
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            Body::from(self.json),
        )
            .into_response()
    }
}

impl JsonCache {
    /// The cached value, or `None` on a miss, a failure or an unreadable entry.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let cached = self.get_json(key).await?;
        match serde_json::from_slice(&cached.json) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(error.message = %e, key, "unreadable cache entry, ignoring it");
                None
            }
        }
    }

    /// The cached value as its JSON and version, from process memory when it is
    /// there, else from Redis (and then kept in memory); `None` on a miss or a failure.
    pub async fn get_json(&self, key: &str) -> Option<CachedJson> {
        let local = self.inner.local.as_deref();
        if let Some(hit) = local.and_then(|l| l.get(key)) {
            self.count("local_hit");
            return Some(hit);
        }
        let ticket = local.and_then(|l| l.ticket(key));
        let mut conn = self.inner.conn.clone();
        let full = self.key(key);
        let raw = match self.call("get", conn.get::<_, Option<String>>(&full)).await {
            Ok(raw) => raw,
            Err(failure) => {
                self.count(match failure {
                    Failure::Bypassed => "bypass",
                    Failure::Timeout => "timeout",
                    Failure::Error(_) => "error",
                });
                return None;
            }
        };
        let Some(raw) = raw else {
            self.count("miss");
            return None;
        };
        let (version, json_len) = match entry::decode(&raw) {
            Entry::Value { version, json } => (version, json.len()),
            Entry::Marker | Entry::Unknown => {
                self.count("miss");
                return None;
            }
        };
        self.count("hit");
        // The JSON is the end of the stored entry: keep it without copying.
        let start = raw.len() - json_len;
        let cached = CachedJson {
            version,
            json: Bytes::from(raw).slice(start..),
        };
        if let (Some(local), Some(ticket)) = (local, ticket) {
            local.fill(key, &ticket, cached.clone());
        }
        Some(cached)
    }

    /// Stores `value`, read from the database at `version`, unless the cache already
    /// holds that version or a newer one, or a write or deletion since made it stale.
    /// What Redis accepts is kept in process memory too. A failure is logged and
    /// otherwise ignored.
    pub async fn put<T: Serialize>(&self, key: &str, version: i64, value: &T) {
        let Ok(json) = serde_json::to_string(value) else { return };
        let ticket = self.inner.local.as_deref().and_then(|l| l.ticket(key));
        let mut conn = self.inner.conn.clone();
        let mut invocation = self.inner.put_if_newer.key(self.key(key));
        invocation
            .arg(version)
            .arg(entry::encode(version, &json))
            .arg(self.inner.ttl_seconds);
        let stored = self.call("put", invocation.invoke_async::<i64>(&mut conn)).await;
        if let (Ok(1), Some(local), Some(ticket)) = (stored, self.inner.local.as_deref(), ticket) {
            let cached = CachedJson {
                version,
                json: Bytes::from(json),
            };
            local.fill(key, &ticket, cached);
        }
    }
}
