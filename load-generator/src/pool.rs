//! The connection tasks of the fast path and the rule that grows their number.
//!
//! Once a second [`Growth`] looks at the last second: if actions were held back it adds half the
//! pool again, and keeps doing so while each step raises the completed rate. A slow target is
//! held back for want of connections and gets them; a saturated fast target is held back for
//! want of CPU, where more connections only lengthen each answer and cost throughput (on the
//! 2-core bench machine 337 connections reached 43k req/s where 64 reached 71k). So the first
//! step that does not help is undone and ends the growth for the run. Growing on slow answers
//! alone would run away at saturation, since by Little's law answers there lengthen with the
//! pool itself; it is used only for answers far slower than saturation makes them
//! ([`SLOW_ANSWER`]), so a slow target gets its connections within its first answers.

use crate::conn::{Connection, Target};
use crate::due::DueRing;
use crate::stats::{Outcome, SharedRecorder, lock};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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

/// Answers slower than this on average (seconds), while actions are held back, add a connection
/// at once rather than at the next look: clearly a slow target, not a busy CPU. A saturated local
/// target answers in a millisecond or two with 64 connections, and would need some 2,000 for
/// this; `--max-in-flight` is 1,000 by default.
const SLOW_ANSWER: f64 = 0.05;

/// Weight of the newest answer in a connection's running mean of answer times.
const MEAN_WEIGHT: f64 = 1.0 / 16.0;

/// The connections of a run.
pub(crate) struct Pool {
    ring: Arc<DueRing>,
    target: Target,
    request_timeout: Duration,
    recorder: SharedRecorder,
    /// Connection tasks running.
    live: AtomicUsize,
    /// Connection tasks wanted; a task above it ends before its next claim.
    wanted: AtomicUsize,
    /// The schedule's highest rate, per second.
    peak_rps: f64,
    /// Set once a growth step did not help; also stops growth on slow answers.
    stop_growing: AtomicBool,
    /// Most connections at once opened in the run.
    largest: AtomicUsize,
    max: usize,
    /// Locked to add a connection and at the end, never per request.
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Pool {
    /// Opens `size` connections, to grow up to `max` for a schedule peaking at `peak_rps`.
    pub(crate) fn open(
        ring: Arc<DueRing>,
        target: Target,
        request_timeout: Duration,
        recorder: SharedRecorder,
        (size, max, peak_rps): (usize, usize, f64),
    ) -> Arc<Self> {
        let pool = Arc::new(Self {
            ring,
            target,
            request_timeout,
            recorder,
            live: AtomicUsize::new(0),
            wanted: AtomicUsize::new(0),
            peak_rps,
            stop_growing: AtomicBool::new(false),
            largest: AtomicUsize::new(0),
            max,
            tasks: Mutex::default(),
        });
        pool.resize(size);
        pool
    }

    /// The most connections open at once during the run.
    pub(crate) fn largest(&self) -> usize {
        self.largest.load(Ordering::Acquire)
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

    /// Sets the wanted number of connections (at most `max`): opens tasks to reach it, or lets
    /// the surplus end after their current request.
    fn resize(self: &Arc<Self>, size: usize) {
        let size = size.min(self.max);
        self.wanted.store(size, Ordering::Release);
        while self
            .live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < size).then_some(n + 1))
            .is_ok()
        {
            let task = tokio::spawn(self.clone().connection());
            self.tasks().push(task);
        }
        self.largest
            .fetch_max(self.live.load(Ordering::Acquire), Ordering::AcqRel);
    }

    /// Whether this task should end because the pool shrank; if so it has left the count.
    fn surplus(&self) -> bool {
        let wanted = self.wanted.load(Ordering::Acquire);
        // One load of a line that is written about once a second: cheap per request.
        self.live.load(Ordering::Acquire) > wanted
            && self
                .live
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n > wanted).then(|| n - 1))
                .is_ok()
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
        let mut mean_answer: Option<f64> = None;
        while !self.surplus() {
            let Some(claimed) = self.ring.claim().await else { break };
            if claimed.held_back {
                local.held_back += 1;
                let wanted = self.wanted.load(Ordering::Acquire);
                // Little's law: the peak rate times the answer time is all the pool can use.
                let mean = mean_answer.unwrap_or(0.0);
                let needed = self.peak_rps * mean * 1.5;
                if mean > SLOW_ANSWER && (wanted as f64) < needed && !self.stop_growing.load(Ordering::Acquire) {
                    self.resize(wanted + 1);
                }
            }
            let sent = Instant::now();
            let outcome = match timeout(self.request_timeout, conn.get(&self.target)).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    conn.reset();
                    Outcome::Timeout
                }
            };
            let now = Instant::now();
            let answer = now.duration_since(sent).as_secs_f64();
            // The first answer stands for the mean at once, so a slow target is seen at once.
            mean_answer = match mean_answer {
                None => Some(answer),
                Some(mean) => Some(mean + (answer - mean) * MEAN_WEIGHT),
            };
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
    /// The completed count of the second and the pool size before the last growth step, if the
    /// last look grew the pool.
    before_step: Option<(u64, usize)>,
    /// A step did not help: no more growth this run.
    done: bool,
}

impl Growth {
    /// The pool size wanted now, if it should change, given the totals and the current size.
    fn step(&mut self, completed: u64, held_back: u64, size: usize) -> Option<usize> {
        let rate = completed.saturating_sub(self.completed);
        let held = held_back.saturating_sub(self.held_back);
        (self.completed, self.held_back) = (completed, held_back);
        if let Some((before, size_before)) = self.before_step.take()
            && (rate as f64) < before as f64 * (1.0 + GROWTH_HELPS)
        {
            // Held back for want of CPU, not of connections: undo the step.
            self.done = true;
            return Some(size_before);
        }
        if self.done || held == 0 {
            return None;
        }
        self.before_step = Some((rate, size));
        Some(size + (size / 2).max(1))
    }

    /// Looks once a second until aborted.
    pub(crate) async fn run(mut self, pool: Arc<Pool>) {
        // As often as the connections merge, so each look sees about one new second. The look at
        // one second only takes the baseline: the tasks' staggered first merges make the first
        // second look slow, and the next would then seem to gain from any step.
        let mut ticker = tokio::time::interval(MERGE_EVERY);
        ticker.tick().await;
        ticker.tick().await;
        {
            let r = lock(&pool.recorder);
            (self.completed, self.held_back) = (r.total.count(), r.run.held_back);
        }
        loop {
            ticker.tick().await;
            let (completed, held_back) = {
                let r = lock(&pool.recorder);
                (r.total.count(), r.run.held_back)
            };
            if let Some(wanted) = self.step(completed, held_back, pool.wanted.load(Ordering::Acquire)) {
                pool.resize(wanted);
            }
            pool.stop_growing.store(self.done, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_continues_while_it_helps_and_is_undone_when_it_does_not() {
        let mut g = Growth::default();
        // Nothing held back: no change.
        assert_eq!(g.step(1000, 0, 64), None);
        // Held back: half the pool again.
        assert_eq!(g.step(1640, 50, 64), Some(96));
        // The completed rate rose by half: it helped, grow again.
        assert_eq!(g.step(2600, 80, 96), Some(144));
        // It rose by only 5%: CPU-bound, back to the size before the step and no more growth,
        // even when held back later.
        assert_eq!(g.step(3608, 500, 144), Some(96));
        assert_eq!(g.step(4000, 900, 96), None);
    }
}
