//! Due times handed from the pacer thread to the connection tasks of the fast path, without a lock.
//!
//! The pacer publishes due time number `j` into slot `j % capacity` of a ring when that time comes;
//! a connection task claims the next index with one `fetch_add` and takes the slot once it is
//! published, waiting on the slot's own `Notify` if it is early. Each slot carries a sequence
//! number (the single-producer form of Vyukov's bounded queue): `j` means free for index `j`,
//! `j + 1` means it holds index `j`. So the ring bounds memory however long the run, a task that
//! claims far ahead cannot read a stale slot, and the pacer waits only if `capacity` due actions
//! are waiting for a connection, which means the run is far behind anyway.
//!
//! Claims happen in index order, and an idle connection claims the next index before it is due.
//! So a claim that finds its slot already published found no idle connection at the due time:
//! that is exactly a held-back action.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How long the pacer sleeps between looks at a full ring. A full ring means a whole ring of due
/// actions waits for a connection, so a millisecond more does not matter, and fewer wakeups leave
/// the cores to the connections.
const FULL_BACKOFF: Duration = Duration::from_millis(1);

struct Slot {
    seq: AtomicU64,
    /// Nanoseconds from the start of the run.
    due: AtomicU64,
    notify: Notify,
}

/// A claimed action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claimed {
    /// When it was due.
    pub due: Instant,
    /// Whether it was already due when claimed, i.e. every connection was busy at its due time.
    pub held_back: bool,
}

/// The ring of due times; see the module docs.
pub struct DueRing {
    slots: Box<[Slot]>,
    mask: u64,
    start: Instant,
    next: AtomicU64,
    /// Number of indices the pacer published in all, once it has finished; `u64::MAX` before.
    end: AtomicU64,
    stopped: AtomicBool,
}

impl DueRing {
    /// A ring of at least `capacity` slots (rounded up to a power of two, at least two) for a run
    /// that started at `start`.
    pub fn new(capacity: usize, start: Instant) -> Self {
        let capacity = capacity.max(2).next_power_of_two();
        let slots = (0..capacity as u64)
            .map(|k| Slot {
                seq: AtomicU64::new(k),
                due: AtomicU64::new(0),
                notify: Notify::new(),
            })
            .collect();
        Self {
            slots,
            mask: capacity as u64 - 1,
            start,
            next: AtomicU64::new(0),
            end: AtomicU64::new(u64::MAX),
            stopped: AtomicBool::new(false),
        }
    }

    /// Slots in the ring; at most this many connections may claim at once.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    fn slot(&self, index: u64) -> &Slot {
        // The mask keeps the index in bounds.
        &self.slots[(index & self.mask) as usize]
    }

    /// Pacer side: publishes index `j` (which must be one more than the last), due `offset` after
    /// the start. Blocks the calling thread while the ring is full; returns false if stopped first.
    pub fn publish(&self, j: u64, offset: Duration) -> bool {
        let slot = self.slot(j);
        while slot.seq.load(Ordering::Acquire) != j {
            if self.is_stopped() {
                return false;
            }
            std::thread::sleep(FULL_BACKOFF);
        }
        let nanos = u64::try_from(offset.as_nanos()).unwrap_or(u64::MAX);
        slot.due.store(nanos, Ordering::Relaxed);
        slot.seq.store(j + 1, Ordering::Release);
        // Lock-free when nobody waits; a permit left for nobody only causes one spurious recheck.
        slot.notify.notify_one();
        true
    }

    /// Pacer side: no index at or past `published` will come.
    pub fn finish(&self, published: u64) {
        self.end.store(published, Ordering::Release);
        self.wake_all();
    }

    /// Ends the run: claims not yet satisfied return `None`.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.wake_all();
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Indices claimed so far (including claims still waiting).
    pub fn claimed(&self) -> u64 {
        self.next.load(Ordering::Acquire)
    }

    /// Number of indices published in all, once the pacer finished.
    pub fn end(&self) -> Option<u64> {
        Some(self.end.load(Ordering::Acquire)).filter(|e| *e != u64::MAX)
    }

    /// Published indices nobody took. Exact once the pacer and the claimers have stopped: the pacer
    /// never runs a whole ring ahead of the takers, so each untaken index still sits in its slot.
    pub fn untaken(&self) -> u64 {
        let slots = self.slots.len() as u64;
        (0..slots)
            .filter(|&k| {
                let seq = self.slot(k).seq.load(Ordering::Acquire);
                // `i + 1` for an index `i` in slot `k` means published and not yet taken.
                seq > 0 && (seq - 1) % slots == k
            })
            .count() as u64
    }

    fn wake_all(&self) {
        for slot in self.slots.iter() {
            slot.notify.notify_waiters();
        }
    }

    /// Claims the next action and waits until it is due. `None` once the schedule is exhausted or
    /// the run stopped.
    pub async fn claim(&self) -> Option<Claimed> {
        let index = self.next.fetch_add(1, Ordering::AcqRel);
        let slot = self.slot(index);
        let mut waited = false;
        loop {
            // After a stop nothing starts, even an action already due: it counts as not started.
            if self.is_stopped() {
                return None;
            }
            if let Some(due) = self.take(slot, index) {
                return Some(Claimed {
                    due,
                    held_back: !waited,
                });
            }
            let notified = slot.notify.notified();
            tokio::pin!(notified);
            // Registered before the re-check, so a publish or stop in between still wakes us.
            notified.as_mut().enable();
            if let Some(due) = self.take(slot, index) {
                return Some(Claimed {
                    due,
                    held_back: !waited,
                });
            }
            if self.is_stopped() || self.end().is_some_and(|end| index >= end) {
                return None;
            }
            notified.await;
            waited = true;
        }
    }

    fn take(&self, slot: &Slot, index: u64) -> Option<Instant> {
        if slot.seq.load(Ordering::Acquire) != index + 1 {
            return None;
        }
        let due = self.start + Duration::from_nanos(slot.due.load(Ordering::Relaxed));
        slot.seq.store(index + self.slots.len() as u64, Ordering::Release);
        Some(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn claims_come_in_index_order_and_report_held_back() {
        // Arrange
        let start = Instant::now();
        let ring = DueRing::new(4, start);
        assert_eq!(ring.capacity(), 4);
        assert!(ring.publish(0, Duration::from_millis(1)));
        assert!(ring.publish(1, Duration::from_millis(2)));

        // Act
        let first = ring.claim().await;
        let second = ring.claim().await;

        // Assert: both were published before they were claimed.
        assert_eq!(
            first,
            Some(Claimed {
                due: start + Duration::from_millis(1),
                held_back: true
            })
        );
        assert_eq!(second.map(|c| c.due), Some(start + Duration::from_millis(2)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_early_claim_waits_for_its_slot_and_is_not_held_back() {
        // Arrange
        let start = Instant::now();
        let ring = Arc::new(DueRing::new(2, start));
        let waiter = tokio::spawn({
            let ring = ring.clone();
            async move { ring.claim().await }
        });

        // Act
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(ring.publish(0, Duration::from_millis(20)));

        // Assert
        let claimed = waiter.await.unwrap().unwrap();
        assert!(!claimed.held_back);
        assert_eq!(claimed.due, start + Duration::from_millis(20));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_ring_wraps_and_every_index_is_taken_once() {
        // Arrange: a ring of 4 carrying 1,000 due times to 3 claimers.
        let ring = Arc::new(DueRing::new(4, Instant::now()));
        let claimers: Vec<_> = (0..3)
            .map(|_| {
                let ring = ring.clone();
                tokio::spawn(async move {
                    let mut dues = Vec::new();
                    while let Some(c) = ring.claim().await {
                        dues.push(c.due);
                    }
                    dues
                })
            })
            .collect();

        // Act
        let pacer = std::thread::spawn({
            let ring = ring.clone();
            move || {
                for j in 0..1000 {
                    assert!(ring.publish(j, Duration::from_micros(j)));
                }
                ring.finish(1000);
            }
        });
        pacer.join().unwrap();
        let mut all = Vec::new();
        for claimer in claimers {
            all.extend(claimer.await.unwrap());
        }

        // Assert
        all.sort();
        let start = ring.start;
        let expected: Vec<_> = (0..1000).map(|j| start + Duration::from_micros(j)).collect();
        assert_eq!(all, expected);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stop_releases_waiting_claims_and_a_blocked_pacer() {
        // Arrange
        let ring = Arc::new(DueRing::new(2, Instant::now()));
        let waiter = tokio::spawn({
            let ring = ring.clone();
            async move { ring.claim().await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;

        // Act
        ring.stop();

        // Assert
        assert_eq!(waiter.await.unwrap(), None);
        assert_eq!(ring.untaken(), 0);
        // Index 0 is published but never taken; index 2 needs its slot back, which nobody will free.
        assert!(ring.publish(0, Duration::ZERO));
        assert_eq!(ring.claim().await, None);
        assert!(!ring.publish(2, Duration::ZERO));
        assert_eq!(ring.untaken(), 1);
    }
}
