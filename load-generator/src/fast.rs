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
//! (wrk's usual 64, which saturates a local server), at most `--max-in-flight`, whose meaning,
//! the most requests in flight at once, is unchanged: a connection carries one request at a time.

use crate::conn::{Connection, Target};
use crate::driver::{RunEnd, RunPlan, progress};
use crate::due::DueRing;
use crate::schedule::Schedule;
use crate::shape::Shape;
use crate::stats::{SharedRecorder, lock};
use std::future::Future;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until, timeout};

/// Connections a run opens at least (unless `--max-in-flight` is lower).
pub const MIN_CONNECTIONS: usize = 64;

/// The latency the pool is sized for at high rates: rate times this many seconds are in flight.
pub const EXPECTED_LATENCY: f64 = 0.001;

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
    let target = Arc::new(target);
    let mut tasks = JoinSet::new();
    for _ in 0..connections {
        tasks.spawn(connection(
            ring.clone(),
            target.clone(),
            request_timeout,
            recorder.clone(),
        ));
    }
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
    if timeout(plan.drain_grace, async { while tasks.join_next().await.is_some() {} })
        .await
        .is_err()
    {
        // A task left now is in the middle of its one request.
        let abandoned = tasks.len() as u64;
        tracing::warn!(abandoned, "drain grace period over, abandoning requests in flight");
        lock(&recorder).run.abandoned = abandoned;
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    let started = ring.end().unwrap_or(0).saturating_sub(ring.untaken());
    {
        let mut r = lock(&recorder);
        r.run.scheduled = scheduled;
        r.run.not_started = scheduled.saturating_sub(started);
    }
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

/// One connection's loop: claim, send, record, until the schedule ends or the run stops.
async fn connection(ring: Arc<DueRing>, target: Arc<Target>, request_timeout: Duration, recorder: SharedRecorder) {
    let mut conn = Connection::default();
    let mut local = lock(&recorder).local();
    // Staggered, so that the tasks do not all queue for the recorder in the same instant.
    let mut merged_at = StdInstant::now() - MERGE_EVERY.mul_f64(fastrand::f64());
    while let Some(claimed) = ring.claim().await {
        local.held_back += u64::from(claimed.held_back);
        let outcome = match timeout(request_timeout, conn.get(&target)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                conn.reset();
                crate::stats::Outcome::Timeout
            }
        };
        let now = StdInstant::now();
        local.record(outcome, now.saturating_duration_since(claimed.due));
        if now.duration_since(merged_at) >= MERGE_EVERY {
            lock(&recorder).merge(&target.label, &mut local);
            merged_at = now;
        }
    }
    lock(&recorder).merge(&target.label, &mut local);
}
