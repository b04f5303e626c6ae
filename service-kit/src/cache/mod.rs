//! Cache-aside with JSON values, in two layers: an in-process map (`local`) in front
//! of Redis. Neither is the source of truth: when Redis fails, reads fall through to
//! the database and the failure is counted, not returned to the client.
//!
//! The local layer holds each value as the JSON bytes Redis holds, so a local hit
//! costs no Redis call and no decode or encode. It is kept coherent across replicas
//! by Redis pub/sub (`subscriber`): every invalidation is announced on a channel under
//! the key prefix, and each process drops its entry when the announcement arrives. It
//! answers only while its subscription is up and hears its own heartbeat; otherwise
//! reads go to Redis and the database as before, and it is cleared. Its short TTL
//! (`--cache-local-ttl`) is a safety net for an announcement that never reached
//! Redis, not the coherence mechanism.
//!
//! A slow Redis is worse than a dead one (a dead one refuses at once), so every call
//! has a short deadline, and a circuit breaker stops calling after a few consecutive
//! failures: while it is open a read costs what the database costs and nothing more.
//! Entries are versioned (see `entry`), so that a read racing a write cannot put an
//! older row back after the write's invalidation.

mod breaker;
mod entry;
mod invalidate;
mod local;
mod read;
mod subscriber;

use std::future::Future;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use redis::aio::ConnectionManager;
use redis::{RedisResult, Script};

pub use breaker::{Breaker, State as BreakerState};
use local::Local;
pub use read::CachedJson;

/// How a service's cache protects its reads, shared by every service that caches.
/// (The TTL is each service's own setting, `--cache-ttl`.)
#[derive(Debug, Clone, clap::Args)]
pub struct CacheArgs {
    /// Longest wait for one cache call; after it the database answers instead. Redis
    /// answers in well under a millisecond when healthy.
    #[arg(
        long = "cache-timeout",
        env = "CACHE_TIMEOUT",
        default_value = "30ms",
        value_parser = crate::duration::positive
    )]
    pub timeout: Duration,
    /// Consecutive cache failures (errors or timeouts) that open the circuit breaker.
    #[arg(long = "cache-breaker-failures", env = "CACHE_BREAKER_FAILURES", default_value_t = 3)]
    pub breaker_failures: u32,
    /// How long an open breaker skips the cache before one call probes it again.
    #[arg(
        long = "cache-breaker-cooldown",
        env = "CACHE_BREAKER_COOLDOWN",
        default_value = "5s",
        value_parser = crate::duration::parse
    )]
    pub breaker_cooldown: Duration,
    /// Lifetime of an entry in the in-process layer. Invalidations reach every
    /// process through Redis pub/sub within milliseconds; this only bounds how long
    /// one whose announcement never reached Redis can be served. 0s turns the layer off.
    #[arg(
        long = "cache-local-ttl",
        env = "CACHE_LOCAL_TTL",
        default_value = "5s",
        value_parser = crate::duration::parse
    )]
    pub local_ttl: Duration,
    /// Entries the in-process layer holds at most (least recently used go first).
    /// 0 turns the layer off.
    #[arg(
        long = "cache-local-max-entries",
        env = "CACHE_LOCAL_MAX_ENTRIES",
        default_value_t = 10_000
    )]
    pub local_max_entries: u64,
}

impl Default for CacheArgs {
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(30),
            breaker_failures: 3,
            breaker_cooldown: Duration::from_secs(5),
            local_ttl: Duration::from_secs(5),
            local_max_entries: 10_000,
        }
    }
}

/// `d` in whole seconds, rounded up: Redis's `EX` counts seconds, and a TTL must not
/// end before the one configured.
fn whole_seconds_up(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
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
    /// Redis's TTL of every entry, in whole seconds (at least one).
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
    mark_gone: Script,
    /// Where invalidations are announced (under the prefix).
    channel: String,
    /// The in-process layer; `None` when turned off or built by `new`.
    local: Option<Arc<Local>>,
    /// `cache_requests_total` by result, registered once: a lookup by labels per read
    /// showed in the profile of cached reads.
    results: Vec<(&'static str, metrics::Counter)>,
}

/// Every `result` label of `cache_requests_total`.
const RESULTS: [&str; 6] = ["local_hit", "hit", "miss", "error", "timeout", "bypass"];

/// A JSON cache under one key prefix, with one TTL for every entry, a deadline on
/// every call and one circuit breaker for the process. Cloning shares all of it.
#[derive(Clone)]
pub struct JsonCache {
    inner: Arc<Inner>,
}

impl JsonCache {
    /// Both layers: connects to Redis at `redis_url` (lazily, so a service starts
    /// while Redis is down) and starts the subscriber that turns the local layer on
    /// (unless `args` turn it off). Call it inside the async runtime.
    pub fn connect(
        redis_url: &str,
        prefix: String,
        ttl: Duration,
        args: &CacheArgs,
        service: &'static str,
    ) -> anyhow::Result<Self> {
        let conn = crate::stores::redis(redis_url)?;
        let client = redis::Client::open(redis_url)
            .with_context(|| format!("invalid Redis URL {}", crate::stores::redact(redis_url)))?;
        Ok(Self::build(conn, Some(client), prefix, ttl, args, service))
    }

    /// The Redis layer alone, without a local layer (its invalidations are still
    /// announced to other processes). `prefix` namespaces every key (a test passes its
    /// own); `ttl` (rounded up to whole seconds) bounds how long a lost invalidation can
    /// serve stale data; `service` labels metrics.
    pub fn new(
        conn: ConnectionManager,
        prefix: String,
        ttl: Duration,
        args: &CacheArgs,
        service: &'static str,
    ) -> Self {
        Self::build(conn, None, prefix, ttl, args, service)
    }

    fn build(
        conn: ConnectionManager,
        client: Option<redis::Client>,
        prefix: String,
        ttl: Duration,
        args: &CacheArgs,
        service: &'static str,
    ) -> Self {
        // The availability gauge is set here: install the recorder first or it is lost.
        crate::metrics::recorder();
        let timeout = args.timeout.max(Duration::from_millis(1));
        let breaker = Breaker::new(
            args.breaker_failures,
            args.breaker_cooldown,
            // A probe that has not reported within twice its deadline was cancelled.
            timeout * 2,
        );
        let local = client
            .filter(|_| !args.local_ttl.is_zero() && args.local_max_entries > 0)
            .map(|client| {
                let local = Arc::new(Local::new(args.local_max_entries, args.local_ttl));
                let channels = subscriber::Channels::new(&prefix);
                subscriber::spawn(&local, client, conn.clone(), channels, service);
                local
            });
        let cache = Self {
            inner: Arc::new(Inner {
                conn,
                channel: subscriber::invalidation_channel(&prefix),
                local,
                prefix,
                ttl_seconds: whole_seconds_up(ttl).max(1),
                timeout,
                service,
                breaker: Mutex::new(breaker),
                last_error: Mutex::new(None),
                pending_invalidations: AtomicUsize::new(0),
                cooldown: args.breaker_cooldown,
                put_if_newer: Script::new(entry::PUT_IF_NEWER),
                invalidate: Script::new(entry::INVALIDATE),
                mark_gone: Script::new(entry::MARK_GONE),
                results: RESULTS
                    .iter()
                    .map(|r| {
                        (
                            *r,
                            metrics::counter!("cache_requests_total", "service" => service, "result" => *r),
                        )
                    })
                    .collect(),
            }),
        };
        cache.publish_availability(true);
        cache
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.inner.prefix)
    }

    fn count(&self, result: &'static str) {
        match self.inner.results.iter().find(|(r, _)| *r == result) {
            Some((_, counter)) => counter.increment(1),
            None => metrics::counter!("cache_requests_total", "service" => self.inner.service, "result" => result)
                .increment(1),
        }
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

    /// Whether reads may be answered from process memory now: the subscription is up
    /// and has heard its heartbeat lately.
    pub fn serves_locally(&self) -> bool {
        self.inner.local.as_ref().is_some_and(|l| l.usable())
    }

    /// Whether the invalidation subscription is connected (the heartbeat aside).
    pub fn is_subscribed(&self) -> bool {
        self.inner.local.as_ref().is_some_and(|l| l.is_live())
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
