//! The in-process layer in front of Redis: entries as their stored JSON bytes, so a
//! hit costs a map lookup and no Redis call, no decode and no encode.
//!
//! It may only answer while it provably hears every invalidation: the subscriber
//! (`subscriber.rs`) turns it on once subscribed, and off (clearing it) when the
//! subscription is lost; in between, reads also stop using it as soon as this
//! process's own heartbeat, published through Redis every `HEARTBEAT`, has not come
//! back on the subscription for `SILENCE` (a paused Redis keeps the connection open,
//! so only the heartbeat tells). Messages on one connection arrive in order, so a
//! heartbeat sent at `t` and applied means that every invalidation Redis handled
//! before `t` has been applied too.
//!
//! Fills race invalidations: a read takes a `Ticket` before it asks Redis, and its
//! fill is refused if an invalidation of a key in the same stripe, or a change of the
//! subscription, happened since. Fills and evictions of one key are serialised by
//! the map's per-key compute lock, so one of the two always sees the other.

use std::hash::BuildHasher as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use moka::ops::compute::Op;

use super::CachedJson;

/// How often each process publishes its heartbeat to itself.
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(500);
/// Without a heartbeat back for this long, reads skip the local layer: the bound on
/// how stale it can be when Redis stalls without closing the connection.
pub(crate) const SILENCE: Duration = Duration::from_secs(2);

/// Invalidation counters; a fill is refused after an invalidation in its stripe.
/// More stripes mean fewer fills refused for an invalidation of another key.
const STRIPES: usize = 1024;

/// What a read saw before asking Redis; see the module docs.
pub(crate) struct Ticket {
    epoch: u64,
    stripe: usize,
    seen: u64,
}

pub(crate) struct Local {
    map: moka::sync::Cache<String, CachedJson>,
    hasher: std::collections::hash_map::RandomState,
    stripes: Box<[AtomicU64]>,
    /// Bumped whenever the layer goes on or off: no fill crosses a change.
    epoch: AtomicU64,
    live: AtomicBool,
    /// Milliseconds since `base` at which the last heartbeat applied was sent.
    heard_at_ms: AtomicU64,
    base: Instant,
}

impl Local {
    pub(crate) fn new(max_entries: u64, ttl: Duration) -> Self {
        Self {
            map: moka::sync::Cache::builder()
                .max_capacity(max_entries)
                .time_to_live(ttl)
                .build(),
            hasher: std::collections::hash_map::RandomState::new(),
            stripes: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
            epoch: AtomicU64::new(0),
            live: AtomicBool::new(false),
            heard_at_ms: AtomicU64::new(0),
            base: Instant::now(),
        }
    }

    /// Milliseconds since this layer was made: the heartbeat's payload.
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether reads may use the layer now.
    pub(crate) fn usable(&self) -> bool {
        self.live.load(SeqCst)
            && self.now_ms().saturating_sub(self.heard_at_ms.load(SeqCst)) < SILENCE.as_millis() as u64
    }

    /// Whether the subscriber is connected (the heartbeat aside).
    pub(crate) fn is_live(&self) -> bool {
        self.live.load(SeqCst)
    }

    /// Milliseconds since the last heartbeat applied.
    pub(crate) fn silence_ms(&self) -> u64 {
        self.now_ms().saturating_sub(self.heard_at_ms.load(SeqCst))
    }

    fn stripe(&self, key: &str) -> usize {
        (self.hasher.hash_one(key) % STRIPES as u64) as usize
    }

    /// A hit, only when `usable`.
    pub(crate) fn get(&self, key: &str) -> Option<CachedJson> {
        if !self.usable() {
            return None;
        }
        self.map.get(key)
    }

    /// Taken before a read asks Redis; `None` while the layer is off.
    pub(crate) fn ticket(&self, key: &str) -> Option<Ticket> {
        if !self.usable() {
            return None;
        }
        let stripe = self.stripe(key);
        Some(Ticket {
            epoch: self.epoch.load(SeqCst),
            stripe,
            seen: self.stripes[stripe].load(SeqCst),
        })
    }

    fn still_valid(&self, t: &Ticket) -> bool {
        self.live.load(SeqCst) && self.epoch.load(SeqCst) == t.epoch && self.stripes[t.stripe].load(SeqCst) == t.seen
    }

    /// Stores what Redis answered or accepted, unless an invalidation or a change of
    /// the subscription came since `ticket`, or the layer holds that version or newer.
    pub(crate) fn fill(&self, key: &str, ticket: &Ticket, value: CachedJson) {
        self.map.entry_by_ref(key).and_compute_with(|current| {
            if !self.still_valid(ticket) {
                return Op::Nop;
            }
            match current {
                Some(c) if c.value().version >= value.version => Op::Nop,
                _ => Op::Put(value),
            }
        });
        // The layer went off (and was cleared) between the check and the put.
        if self.epoch.load(SeqCst) != ticket.epoch {
            self.map.invalidate(key);
        }
    }

    /// A write committed `version` (`None`: a deletion): drops an older entry and
    /// refuses the fills of reads that started before.
    pub(crate) fn evict(&self, key: &str, version: Option<i64>) {
        self.stripes[self.stripe(key)].fetch_add(1, SeqCst);
        self.map
            .entry_by_ref(key)
            .and_compute_with(|current| match (current, version) {
                (Some(c), Some(v)) if c.value().version >= v => Op::Nop,
                (Some(_), _) => Op::Remove,
                (None, _) => Op::Nop,
            });
    }

    /// Subscribed: start empty (invalidations may have been missed while off).
    pub(crate) fn turn_on(&self) {
        self.epoch.fetch_add(1, SeqCst);
        self.map.invalidate_all();
        self.heard_at_ms.store(self.now_ms(), SeqCst);
        self.live.store(true, SeqCst);
    }

    /// The subscription is lost: stop answering and forget everything.
    pub(crate) fn turn_off(&self) {
        self.live.store(false, SeqCst);
        self.epoch.fetch_add(1, SeqCst);
        self.map.invalidate_all();
    }

    /// This process's heartbeat, sent at `sent_ms`, came back.
    pub(crate) fn heard(&self, sent_ms: u64) {
        self.heard_at_ms.fetch_max(sent_ms, SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;

    use super::*;

    fn value(version: i64) -> CachedJson {
        CachedJson {
            version,
            json: Bytes::from(format!("{{\"v\":{version}}}")),
        }
    }

    fn live() -> Local {
        let l = Local::new(100, Duration::from_secs(60));
        l.turn_on();
        l
    }

    #[test]
    fn nothing_is_served_or_filled_while_off() {
        let l = Local::new(100, Duration::from_secs(60));
        assert!(l.ticket("k").is_none());
        let on = live();
        let t = on.ticket("k").unwrap();
        on.fill("k", &t, value(1));
        assert_eq!(on.get("k").map(|c| c.version), Some(1));
        on.turn_off();
        assert!(on.get("k").is_none());
        on.turn_on();
        assert!(on.get("k").is_none(), "turning on again starts empty");
    }

    #[test]
    fn a_fill_that_raced_an_invalidation_is_refused() {
        let l = live();
        let t = l.ticket("k").unwrap();
        l.evict("k", Some(2));
        l.fill("k", &t, value(1));
        assert!(l.get("k").is_none());
    }

    #[test]
    fn a_fill_from_before_a_reconnect_is_refused() {
        let l = live();
        let t = l.ticket("k").unwrap();
        l.turn_off();
        l.turn_on();
        l.fill("k", &t, value(1));
        assert!(l.get("k").is_none());
    }

    #[test]
    fn an_older_fill_never_replaces_a_newer_entry() {
        let l = live();
        let t = l.ticket("k").unwrap();
        l.fill("k", &t, value(3));
        let t = l.ticket("k").unwrap();
        l.fill("k", &t, value(2));
        assert_eq!(l.get("k").map(|c| c.version), Some(3));
    }

    #[test]
    fn an_invalidation_keeps_an_entry_as_new_as_the_write() {
        let l = live();
        let t = l.ticket("k").unwrap();
        l.fill("k", &t, value(3));
        l.evict("k", Some(3));
        assert_eq!(l.get("k").map(|c| c.version), Some(3));
        l.evict("k", Some(4));
        assert!(l.get("k").is_none());
        let t = l.ticket("k").unwrap();
        l.fill("k", &t, value(4));
        l.evict("k", None);
        assert!(l.get("k").is_none(), "a deletion drops any version");
    }

    #[test]
    fn a_silent_subscription_stops_reads() {
        let l = live();
        let t = l.ticket("k").unwrap();
        l.fill("k", &t, value(1));
        l.heard_at_ms.store(0, SeqCst);
        let l = Local {
            base: Instant::now() - SILENCE - Duration::from_millis(1),
            ..l
        };
        assert!(l.get("k").is_none());
        l.heard(l.now_ms());
        assert_eq!(l.get("k").map(|c| c.version), Some(1));
    }
}
