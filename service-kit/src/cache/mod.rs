//! Cache-aside over Redis with JSON values. Redis is an optimisation here, never the
//! source of truth: when it fails, reads fall through to the database and the failure
//! is counted, not returned to the client.
//!
//! A slow Redis is worse than a dead one (a dead one refuses at once), so every call
//! has a short deadline, and a circuit breaker stops calling after a few consecutive
//! failures: while it is open a read costs what the database costs and nothing more.
//! Entries are versioned (see `entry`), so that a read racing a write cannot put an
//! older row back after the write's invalidation.

mod breaker;
mod entry;
mod invalidate;

use std::future::Future;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use redis::{AsyncCommands as _, RedisResult, Script};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use breaker::{Breaker, State as BreakerState};
use entry::Entry;

/// How a service's cache protects its reads, shared by every service that caches.
/// (The TTL is each service's own setting, `--cache-ttl-seconds`.)
#[derive(Debug, Clone, clap::Args)]
pub struct CacheArgs {
    /// Longest wait for one cache call; after it the database answers instead. Redis
    /// answers in well under a millisecond when healthy.
    #[arg(long = "cache-timeout-ms", env = "CACHE_TIMEOUT_MS", default_value_t = 30)]
    pub timeout_ms: u64,
    /// Consecutive cache failures (errors or timeouts) that open the circuit breaker.
    #[arg(long = "cache-breaker-failures", env = "CACHE_BREAKER_FAILURES", default_value_t = 3)]
    pub breaker_failures: u32,
    /// How long an open breaker skips the cache before one call probes it again.
    #[arg(
        long = "cache-breaker-cooldown-ms",
        env = "CACHE_BREAKER_COOLDOWN_MS",
        default_value_t = 5000
    )]
    pub breaker_cooldown_ms: u64,
}

impl Default for CacheArgs {
    fn default() -> Self {
        Self {
            timeout_ms: 30,
            breaker_failures: 3,
            breaker_cooldown_ms: 5000,
        }
    }
}

/// Why a cache call gave nothing.
#[derive(Debug)]
enum Failure {
    /// The breaker is open: the call was not made.
    Bypassed,
    /// No answer within the deadline.
    Timeout,
    /// Redis answered with an error, or the connection failed.
    Error(String),
}

struct Inner {
    conn: ConnectionManager,
    prefix: String,
    ttl_seconds: u64,
    timeout: Duration,
    service: &'static str,
    breaker: Mutex<Breaker>,
    /// Invalidations being retried in the background.
    pending_invalidations: AtomicUsize,
    /// The breaker's cool-down, which also caps the retry backoff of invalidations.
    cooldown: Duration,
    /// The last failure, for `/ready` to say why the cache is considered down.
    last_error: Mutex<Option<String>>,
    put_if_newer: Script,
    invalidate: Script,
}

/// A JSON cache under one key prefix, with one TTL for every entry, a deadline on
/// every call and one circuit breaker for the process. Cloning shares all of it.
#[derive(Clone)]
pub struct JsonCache {
    inner: Arc<Inner>,
}

impl JsonCache {
    /// `prefix` namespaces every key (a test passes its own); `ttl_seconds` bounds how
    /// long a lost invalidation can serve stale data; `service` labels metrics.
    pub fn new(
        conn: ConnectionManager,
        prefix: String,
        ttl_seconds: u64,
        args: &CacheArgs,
        service: &'static str,
    ) -> Self {
        // The availability gauge is set here: install the recorder first or it is lost.
        crate::metrics::recorder();
        let timeout = Duration::from_millis(args.timeout_ms.max(1));
        let breaker = Breaker::new(
            args.breaker_failures,
            Duration::from_millis(args.breaker_cooldown_ms),
            // A probe that has not reported within twice its deadline was cancelled.
            timeout * 2,
        );
        let cache = Self {
            inner: Arc::new(Inner {
                conn,
                prefix,
                ttl_seconds: ttl_seconds.max(1),
                timeout,
                service,
                breaker: Mutex::new(breaker),
                last_error: Mutex::new(None),
                pending_invalidations: AtomicUsize::new(0),
                cooldown: Duration::from_millis(args.breaker_cooldown_ms),
                put_if_newer: Script::new(entry::PUT_IF_NEWER),
                invalidate: Script::new(entry::INVALIDATE),
            }),
        };
        cache.publish_availability(true);
        cache
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.inner.prefix)
    }

    fn count(&self, result: &'static str) {
        metrics::counter!("cache_requests_total", "service" => self.inner.service, "result" => result).increment(1);
    }

    fn publish_availability(&self, up: bool) {
        metrics::gauge!("cache_available", "service" => self.inner.service).set(if up { 1.0 } else { 0.0 });
    }

    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        // A panic while holding this lock cannot leave the breaker half-updated (every
        // change is one assignment), so a poisoned lock is still good to use.
        self.inner.breaker.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the breaker is closed, that is whether cache calls are being made.
    pub fn is_available(&self) -> bool {
        self.breaker().is_closed()
    }

    /// Runs one Redis call under the breaker and the deadline.
    async fn call<T>(&self, op: &'static str, fut: impl Future<Output = RedisResult<T>>) -> Result<T, Failure> {
        if !self.breaker().admit(Instant::now()) {
            return Err(Failure::Bypassed);
        }
        let failure = match tokio::time::timeout(self.inner.timeout, fut).await {
            Ok(Ok(v)) => {
                let was_closed = {
                    let mut b = self.breaker();
                    let was = b.is_closed();
                    b.success();
                    was
                };
                if !was_closed {
                    tracing::info!(op, "cache answers again, circuit closed");
                    self.publish_availability(true);
                }
                return Ok(v);
            }
            Ok(Err(e)) => Failure::Error(e.to_string()),
            Err(_) => Failure::Timeout,
        };
        let message = match &failure {
            Failure::Timeout => format!("no answer within {:?}", self.inner.timeout),
            Failure::Error(e) => e.clone(),
            Failure::Bypassed => String::new(),
        };
        tracing::warn!(op, error.message = %message, "cache call failed, using the database");
        *self.inner.last_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(message);
        let opened = {
            let mut b = self.breaker();
            let was_closed = b.is_closed();
            b.failure(Instant::now());
            was_closed && !b.is_closed()
        };
        if opened {
            tracing::warn!(op, "cache circuit open: reads skip the cache until a probe succeeds");
            metrics::counter!("cache_circuit_opened_total", "service" => self.inner.service).increment(1);
            self.publish_availability(false);
        }
        Err(failure)
    }

    /// The cached value, or `None` on a miss, a failure or an unreadable entry.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
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
        match entry::decode(&raw) {
            Entry::Value { json, .. } => match serde_json::from_str(json) {
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
            Entry::Marker | Entry::Unknown => {
                self.count("miss");
                None
            }
        }
    }

    /// Stores `value`, read from the database at `version`, unless the cache already
    /// holds that version or a newer one, or a write or deletion since made it stale.
    /// A failure is logged and otherwise ignored.
    pub async fn put<T: Serialize>(&self, key: &str, version: i64, value: &T) {
        let Ok(json) = serde_json::to_string(value) else { return };
        let mut conn = self.inner.conn.clone();
        let mut invocation = self.inner.put_if_newer.key(self.key(key));
        invocation
            .arg(version)
            .arg(entry::encode(version, &json))
            .arg(self.inner.ttl_seconds);
        let _ = self.call("put", invocation.invoke_async::<i64>(&mut conn)).await;
    }

    /// For `/ready`: `PING` under the breaker and the deadline. While the breaker is
    /// open this answers at once with the last failure.
    pub async fn health(&self) -> Result<(), String> {
        let mut conn = self.inner.conn.clone();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        match self.call("ping", ping).await {
            Ok(_) => Ok(()),
            Err(Failure::Bypassed) => {
                let last = self
                    .inner
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                Err(format!(
                    "circuit open ({}); reads use the database",
                    last.as_deref().unwrap_or("repeated failures")
                ))
            }
            Err(Failure::Timeout) => Err(format!("no answer within {:?}", self.inner.timeout)),
            Err(Failure::Error(e)) => Err(e),
        }
    }
}
