//! The fast path for `--url`: a pool of persistent connections, one task each, taking due times
//! from a shared [`DueRing`] and sending back to back. It keeps the open-loop contract of
//! [`driver`](crate::driver): each request is due at its schedule time whether or not earlier ones
//! answered, and its latency counts from that due time, so a wait for a free connection shows in
//! the percentiles (coordinated omission) and is counted as held back.
//!
//! Pacing stays on an OS thread with `std::thread::sleep` (see `driver` for why not tokio's
//! timer), but the thread only publishes due times; it spawns nothing. Per request a connection
//! does one `fetch_add` to claim, one write and usually one read, and records into its own
//! histogram, merged into the shared recorder once a second. No shared lock, no allocation.
//!
//! Connections: enough for the peak rate at [`EXPECTED_LATENCY`], at least [`MIN_CONNECTIONS`]
//! (wrk's usual 64, which saturates a local server). Once a second [`Growth`] looks at the last
//! second: if actions were held back it adds half the pool again, and keeps doing so while each
//! step raises the completed rate. A slow target is held back for want of connections and gets
//! them; a saturated fast target is held back for want of CPU, where more connections only
//! lengthen each answer, so the first step that does not help ends the growth for the run.
//! (Growing on slow answers instead runs away at saturation: by Little's law answers there
//! lengthen with the pool itself.) Never more than `--max-in-flight`, whose meaning, the most
//! requests in flight at once, is unchanged: a connection carries one request at a time.

use crate::conn::{Connection, Target};
use crate::driver::{RunEnd, RunPlan, progress};
use crate::due::DueRing;
use crate::schedule::Schedule;
use crate::shape::Shape;
use crate::stats::{Outcome, SharedRecorder, lock};
use std::future::Future;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant as StdInstant};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout};

/// Connections a run opens at least (unless `--max-in-flight` is lower).
pub const MIN_CONNECTIONS: usize = 64;

/// The latency the pool is first sized for: rate times this many seconds are in flight.
pub const EXPECTED_LATENCY: f64 = 0.001;

/// A growth step must raise the completed rate by this fraction to count as helping (a step adds
/// half the pool, so a pool-bound run gains far more; noise from staggered merges far less).
const GROWTH_HELPS: f64 = 0.2;

/// Slots in the due-time ring: more than any sane pool, and a second of backlog at 16k/s.
const RING: usize = 1 << 16;

/// A task merges its measurements into the shared recorder this often: the progress line reads
/// them, and a merge scans a whole histogram (~180 KiB), so not much more often.
const MERGE_EVERY: Duration = Duration::from_secs(1);

/// How long after the run the pacer's last due actions may still be started (as in `driver`).
const START_GRACE: Duration = Duration::from_secs(1);

/// How often the pacer checks for a stop while sleeping towards a far due time.
const STOP_CHECK: Duration = Duration::from_millis(10);

/// Connections for a run whose rate peaks at `peak_rps`.
pub fn pool_size(peak_rps: f64, max_in_flight: usize) -> usize {
    let wanted = (peak_rps * EXPECTED_LATENCY).ceil().max(0.0) as usize;
    wanted.max(MIN_CONNECTIONS).min(max_in_flight).clamp(1, RING / 2)
}

/// The highest rate of `shape` over a run of `duration`, sampled finely enough to catch a short spike.
pub fn peak_rate(shape: &Shape, duration: Duration) -> f64 {
    let total = duration.as_secs_f64();
    (0..=1000)
        .map(|i| shape.rate_at(total * f64::from(i) / 1000.0, total))
        .fold(0.0, f64::max)
}

/// Runs `plan` against `target` until its duration passed or `stop` resolved.
pub async fn run(
    plan: RunPlan,
    target: Target,
    request_timeout: Duration,
    recorder: SharedRecorder,
    stop: impl Future<Output = ()>,
) -> RunEnd {
    let total = plan.duration.as_secs_f64();
    let connections = pool_size(peak_rate(&plan.shape, plan.duration), plan.max_in_flight);
    tracing::debug!(connections, "opening the connection pool");
    let start = StdInstant::now();
    let tokio_start = Instant::from_std(start);
    let ring = Arc::new(DueRing::new(RING, start));
    let pool = Arc::new(Pool {
        ring: ring.clone(),
        target,
        request_timeout,
        recorder: recorder.clone(),
        size: AtomicUsize::new(0),
        max: plan.max_in_flight.clamp(1, RING / 2),
        tasks: Mutex::default(),
    });
    for _ in 0..connections {
        pool.grow();
    }
    let growth = tokio::spawn(Growth::default().run(pool.clone()));
    let progress = plan
        .progress
        .then(|| tokio::spawn(progress(plan.shape.clone(), total, tokio_start, recorder.clone())));
    let pacer = {
        let (ring, schedule) = (ring.clone(), Schedule::new(plan.shape.clone(), total));
        tokio::task::spawn_blocking(move || pace(&ring, schedule, start))
    };

    tokio::pin!(stop);
    let mut interrupted = tokio::select! {
        biased;
        () = &mut stop => true,
        () = sleep_until(tokio_start + plan.duration) => false,
    };
    if !interrupted {
        // Let connections that run a little behind start the last due actions, as `driver` does.
        let deadline = Instant::now() + START_GRACE;
        while ring.end().is_none_or(|end| ring.claimed() < end) && Instant::now() < deadline {
            tokio::select! {
                biased;
                () = &mut stop => { interrupted = true; break }
                () = tokio::time::sleep(Duration::from_millis(5)) => {}
            }
        }
    }
    let elapsed_secs = start.elapsed().as_secs_f64().min(total);
    ring.stop();
    let scheduled = pacer.await.unwrap_or_else(|_| {
        tracing::error!("pacer panicked");
        0
    });
    if timeout(plan.drain_grace, pool.join()).await.is_err() {
        // A task left now is in the middle of its one request.
        let tasks = std::mem::take(&mut *pool.tasks());
        let abandoned = tasks.iter().filter(|t| !t.is_finished()).count() as u64;
        tracing::warn!(abandoned, "drain grace period over, abandoning requests in flight");
        lock(&recorder).run.abandoned = abandoned;
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
    }
    tracing::debug!(connections = pool.size.load(Ordering::Acquire), "connections opened");
    let started = ring.end().unwrap_or(0).saturating_sub(ring.untaken());
    {
        let mut r = lock(&recorder);
        r.run.scheduled = scheduled;
        r.run.not_started = scheduled.saturating_sub(started);
    }
    growth.abort();
    if let Some(task) = progress {
        task.abort();
        if std::io::stderr().is_terminal() {
            eprintln!();
        }
    }
    RunEnd {
        elapsed_secs,
        interrupted,
    }
}

/// The pacer thread: publishes each due time when it comes. Returns how many came during the run.
fn pace(ring: &DueRing, schedule: Schedule, start: StdInstant) -> u64 {
    let mut published = 0;
    let mut schedule = schedule.peekable();
    while let Some(&offset) = schedule.peek() {
        let offset = Duration::from_secs_f64(offset);
        loop {
            let elapsed = start.elapsed();
            if ring.is_stopped() || elapsed >= offset {
                break;
            }
            std::thread::sleep((offset - elapsed).min(STOP_CHECK));
        }
        if ring.is_stopped() || !ring.publish(published, offset) {
            break;
        }
        schedule.next();
        published += 1;
    }
    ring.finish(published);
    // Due but not published because the run stopped first: scheduled, never started.
    let now = start.elapsed().as_secs_f64();
    published + schedule.take_while(|o| *o <= now).count() as u64
}

/// The connections of a run.
struct Pool {
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
    async fn join(&self) {
        while !self.tasks().iter().all(JoinHandle::is_finished) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// One connection's loop: claim, send, record, until the schedule ends or the run stops.
    async fn connection(self: Arc<Self>) {
        let mut conn = Connection::default();
        let mut local = lock(&self.recorder).local();
        // Staggered, so that the tasks do not all queue for the recorder in the same instant.
        let mut merged_at = StdInstant::now() - MERGE_EVERY.mul_f64(fastrand::f64());
        while let Some(claimed) = self.ring.claim().await {
            local.held_back += u64::from(claimed.held_back);
            let outcome = match timeout(self.request_timeout, conn.get(&self.target)).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    conn.reset();
                    Outcome::Timeout
                }
            };
            let now = StdInstant::now();
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
struct Growth {
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

    async fn run(mut self, pool: Arc<Pool>) {
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
    fn pool_size_follows_the_rate_within_bounds() {
        assert_eq!(pool_size(10.0, 1000), MIN_CONNECTIONS);
        assert_eq!(pool_size(150_000.0, 1000), 150);
        assert_eq!(pool_size(150_000.0, 100), 100);
        assert_eq!(pool_size(10.0, 1), 1);
        assert_eq!(pool_size(10.0, 0), 1);
    }

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
