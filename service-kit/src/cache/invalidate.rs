//! Invalidation after a write: a versioned marker, or a deletion marker, announced on
//! the prefix's channel so that every process drops its local entry, and a background
//! retry (marker and announcement) when Redis cannot be reached at the moment of the
//! write.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Failure, JsonCache, subscriber};

/// Invalidations retried at once, at most; see `JsonCache::invalidate_or_retry`.
const MAX_PENDING_INVALIDATIONS: usize = 10_000;

impl JsonCache {
    /// After a write committed `version`: drops the entry and refuses any older value
    /// for the TTL. A failure is retried in the background (see `invalidate_or_retry`).
    pub async fn invalidate(&self, key: &str, version: i64) {
        self.invalidate_or_retry(key, Some(version)).await;
    }

    /// After a delete committed: nothing is cached under the key for the TTL. A failure
    /// is retried in the background.
    pub async fn gone(&self, key: &str) {
        self.invalidate_or_retry(key, None).await;
    }

    /// One attempt: a versioned marker, or the deletion marker when `version` is `None`,
    /// announced to every process's local layer in the same script. This process's
    /// own local entry goes after the marker (so a read of this process that misses
    /// locally from then on finds the marker in Redis), and whether or not it landed.
    async fn try_invalidate(&self, key: &str, version: Option<i64>) -> Result<(), Failure> {
        let mut conn = self.inner.conn.clone();
        let full = self.key(key);
        let message = subscriber::message(key, version);
        let result = match version {
            Some(version) => {
                let mut invocation = self.inner.invalidate.key(&full);
                invocation
                    .arg(version)
                    .arg(self.inner.ttl_seconds)
                    .arg(&self.inner.channel)
                    .arg(&message);
                self.call("invalidate", invocation.invoke_async::<i64>(&mut conn))
                    .await
                    .map(drop)
            }
            None => {
                let mut invocation = self.inner.mark_gone.key(&full);
                invocation
                    .arg(self.inner.ttl_seconds)
                    .arg(&self.inner.channel)
                    .arg(&message);
                self.call("gone", invocation.invoke_async::<i64>(&mut conn))
                    .await
                    .map(drop)
            }
        };
        if let Some(local) = &self.inner.local {
            local.evict(key, version);
        }
        result
    }

    /// An invalidation that fails (Redis unreachable from here, or the breaker open)
    /// would leave an old entry for other replicas, or for this one once Redis is back,
    /// to serve until it expires. So it is retried in the background, with backoff,
    /// until it lands or a TTL has passed (by then the old entry has expired anyway).
    /// The number of pending retries is capped so that a long outage cannot pile up
    /// tasks without bound; beyond the cap the TTL is the only bound.
    async fn invalidate_or_retry(&self, key: &str, version: Option<i64>) {
        if self.try_invalidate(key, version).await.is_ok() {
            return;
        }
        let pending = self.inner.pending_invalidations.fetch_add(1, Ordering::SeqCst);
        if pending >= MAX_PENDING_INVALIDATIONS {
            self.inner.pending_invalidations.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(key, "cache invalidation lost, the entry expires by ttl");
            return;
        }
        self.publish_pending();
        let (cache, key) = (self.clone(), key.to_owned());
        tokio::spawn(async move {
            let give_up = Instant::now() + Duration::from_secs(cache.inner.ttl_seconds);
            let max_delay = cache.inner.cooldown.max(Duration::from_millis(100));
            let mut delay = Duration::from_millis(100);
            loop {
                tokio::time::sleep(delay).await;
                if cache.try_invalidate(&key, version).await.is_ok() {
                    tracing::info!(key, "delayed cache invalidation done");
                    break;
                }
                if Instant::now() >= give_up {
                    tracing::warn!(key, "cache invalidation gave up, the entry has expired by ttl");
                    break;
                }
                delay = (delay * 2).min(max_delay);
            }
            cache.inner.pending_invalidations.fetch_sub(1, Ordering::SeqCst);
            cache.publish_pending();
        });
    }

    fn publish_pending(&self) {
        let pending = self.inner.pending_invalidations.load(Ordering::SeqCst);
        metrics::gauge!("cache_pending_invalidations", "service" => self.inner.service).set(pending as f64);
    }
}
