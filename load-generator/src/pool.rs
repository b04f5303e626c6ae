//! The connection tasks of the fast path and the rule that grows their number.
//!
//! Once a second [`Growth`] looks at the last second: if actions were held back it adds half the
//! pool again, and keeps doing so while each step raises the completed rate. A slow target is
//! held back for want of connections and gets them; a saturated fast target is held back for
//! want of CPU, where more connections only lengthen each answer, so the first step that does not
//! help ends the growth for the run. (Growing on slow answers instead runs away at saturation: by
//! Little's law answers there lengthen with the pool itself.)

use crate::conn::{Connection, Target};
use crate::due::DueRing;
use crate::stats::{Outcome, SharedRecorder, lock};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// A task merges its measurements into the shared recorder this often: the progress line reads
/// them, and a merge scans a whole histogram (~180 KiB), so not much more often.
const MERGE_EVERY: Duration = Duration::from_secs(1);

/// A growth step must raise the completed rate by this fraction to count as helping (a step adds
/// half the pool, so a pool-bound run gains far more; noise from staggered merges far less).
const GROWTH_HELPS: f64 = 0.2;

/// The connections of a run.
pub(crate) struct Pool {
    ring: Arc<DueRing>,
    target: Target,
    request_timeout: Duration,
    recorder: SharedRecorder,
    /// Connections opened so far.
    size: AtomicUsize,
    max: usize,
    /// Locked to add a connection and at the end, never per request.
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Pool {
    /// Opens `size` connections, to grow up to `max`.
    pub(crate) fn open(
        ring: Arc<DueRing>,
        target: Target,
        request_timeout: Duration,
        recorder: SharedRecorder,
        size: usize,
        max: usize,
    ) -> Arc<Self> {
        let pool = Arc::new(Self {
            ring,
            target,
            request_timeout,
            recorder,
            size: AtomicUsize::new(0),
            max,
            tasks: Mutex::default(),
        });
        for _ in 0..size {
            pool.grow();
        }
        pool
    }

    /// Connections opened so far.
    pub(crate) fn size(&self) -> usize {
        self.size.load(Ordering::Acquire)
    }

    /// Aborts the connection tasks still running and returns how many there were.
    pub(crate) async fn abort(&self) -> u64 {
        let tasks = std::mem::take(&mut *self.tasks());
        let running = tasks.iter().filter(|t| !t.is_finished()).count() as u64;
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
        running
    }

    /// Opens one more connection task unless the pool is at its maximum; false if it is.
    fn grow(self: &Arc<Self>) -> bool {
        let grown = self
            .size
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.max).then_some(n + 1));
        if grown.is_ok() {
            let task = tokio::spawn(self.clone().connection());
            self.tasks().push(task);
        }
        grown.is_ok()
    }

    fn tasks(&self) -> MutexGuard<'_, Vec<JoinHandle<()>>> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until every connection task has ended. Polls, so the handles stay in place for an
    /// abort; this runs once, at the end of the run.
    pub(crate) async fn join(&self) {
        while !self.tasks().iter().all(JoinHandle::is_finished) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// One connection's loop: claim, send, record, until the schedule ends or the run stops.
    async fn connection(self: Arc<Self>) {
        let mut conn = Connection::default();
        let mut local = lock(&self.recorder).local();
        // Staggered, so that the tasks do not all queue for the recorder in the same instant.
        let mut merged_at = Instant::now() - MERGE_EVERY.mul_f64(fastrand::f64());
        while let Some(claimed) = self.ring.claim().await {
            local.held_back += u64::from(claimed.held_back);
            let outcome = match timeout(self.request_timeout, conn.get(&self.target)).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    conn.reset();
                    Outcome::Timeout
                }
            };
            let now = Instant::now();
            local.record(outcome, now.saturating_duration_since(claimed.due));
            if now.duration_since(merged_at) >= MERGE_EVERY {
                lock(&self.recorder).merge(&self.target.label, &mut local);
                merged_at = now;
            }
        }
        lock(&self.recorder).merge(&self.target.label, &mut local);
    }
}

/// Decides once a second whether the pool should grow; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct Growth {
    /// Completed and held-back totals at the last look.
    completed: u64,
    held_back: u64,
    /// Completed in the second before the last growth step, if the last look grew the pool.
    before_step: Option<u64>,
    /// A step did not help: no more growth this run.
    done: bool,
}

impl Growth {
    /// Connections to add, given the totals now and the pool's size.
    fn step(&mut self, completed: u64, held_back: u64, size: usize) -> usize {
        let rate = completed.saturating_sub(self.completed);
        let held = held_back.saturating_sub(self.held_back);
        (self.completed, self.held_back) = (completed, held_back);
        if let Some(before) = self.before_step.take()
            && (rate as f64) < before as f64 * (1.0 + GROWTH_HELPS)
        {
            // Held back for want of CPU, not of connections.
            self.done = true;
        }
        if self.done || held == 0 {
            return 0;
        }
        self.before_step = Some(rate);
        (size / 2).max(1)
    }

    pub(crate) async fn run(mut self, pool: Arc<Pool>) {
        // Looks as often as the connections merge, so each look sees about one new second.
        let mut ticker = tokio::time::interval(MERGE_EVERY);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let (completed, held_back) = {
                let r = lock(&pool.recorder);
                (r.total.count(), r.run.held_back)
            };
            let add = self.step(completed, held_back, pool.size.load(Ordering::Acquire));
            for _ in 0..add {
                if !pool.grow() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_continues_while_it_helps_and_stops_for_good_when_it_does_not() {
        let mut g = Growth::default();
        // Nothing held back: no growth.
        assert_eq!(g.step(1000, 0, 64), 0);
        // Held back: half the pool again.
        assert_eq!(g.step(1640, 50, 64), 32);
        // The completed rate rose by half: it helped, grow again.
        assert_eq!(g.step(2600, 80, 96), 48);
        // It rose by only 5%: CPU-bound, no more growth, even when held back later.
        assert_eq!(g.step(3608, 500, 144), 0);
        assert_eq!(g.step(4000, 900, 144), 0);
    }
}
