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
//! Connections: [`INITIAL_CONNECTIONS`] at first (wrk's usual 64), grown by `pool` while growing
//! helps, never more than `--max-in-flight`. That flag keeps its meaning, the most requests in flight at once:
//! a connection carries one request at a time.

use crate::conn::Target;
use crate::driver::{RunEnd, RunPlan, progress};
use crate::due::DueRing;
use crate::pool::{Growth, Pool};
use crate::schedule::Schedule;
use crate::shape::Shape;
use crate::stats::{SharedRecorder, lock};
use std::future::Future;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};
use tokio::time::{Instant, sleep_until, timeout};

/// Connections a run opens first (unless `--max-in-flight` is lower): wrk's usual 64, enough
/// for rate times latency up to 64 (64k/s at 1 ms, 640/s at 100 ms) and enough to saturate a
/// local server. More only cost throughput there; slower targets get more by growing.
pub const INITIAL_CONNECTIONS: usize = 64;

/// Slots in the due-time ring: more than any sane pool, and a second of backlog at 16k/s.
const RING: usize = 1 << 16;

/// How long after the run the pacer's last due actions may still be started (as in `driver`).
const START_GRACE: Duration = Duration::from_secs(1);

/// How often the pacer checks for a stop while sleeping towards a far due time.
const STOP_CHECK: Duration = Duration::from_millis(10);

/// Connections to open first under `--max-in-flight`.
pub fn pool_size(max_in_flight: usize) -> usize {
    INITIAL_CONNECTIONS.min(max_in_flight).clamp(1, RING / 2)
}

/// The highest rate of `shape` over a run of `duration`, sampled finely enough to catch a short spike.
fn peak_rate(shape: &Shape, duration: Duration) -> f64 {
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
    let connections = pool_size(plan.max_in_flight);
    tracing::debug!(connections, "opening the connection pool");
    let start = StdInstant::now();
    let tokio_start = Instant::from_std(start);
    let ring = Arc::new(DueRing::new(RING, start));
    let max = plan.max_in_flight.clamp(1, RING / 2);
    let sizes = (connections, max, peak_rate(&plan.shape, plan.duration));
    let pool = Pool::open(ring.clone(), target, request_timeout, recorder.clone(), sizes);
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
        // Waits for the actions to be taken, not claimed: idle connections claim indices
        // ahead of the schedule, so every index can be claimed while the last due one still
        // waits for its connection to wake.
        let deadline = Instant::now() + START_GRACE;
        while ring.end().is_none_or(|_| ring.untaken() > 0) && Instant::now() < deadline {
            tokio::select! {
                biased;
                () = &mut stop => { interrupted = true; break }
                () = tokio::time::sleep(Duration::from_millis(5)) => {}
            }
        }
    }
    let elapsed_secs = start.elapsed().as_secs_f64().min(total);
    ring.stop();
    growth.abort();
    let scheduled = pacer.await.unwrap_or_else(|_| {
        tracing::error!("pacer panicked");
        0
    });
    if timeout(plan.drain_grace, pool.join()).await.is_err() {
        // A task left now is in the middle of its one request.
        let abandoned = pool.abort().await;
        tracing::warn!(abandoned, "drain grace period over, abandoning requests in flight");
        lock(&recorder).run.abandoned = abandoned;
    }
    tracing::debug!(connections = pool.largest(), "most connections open at once");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_starts_at_wrks_64_within_the_in_flight_cap() {
        assert_eq!(pool_size(1000), INITIAL_CONNECTIONS);
        assert_eq!(pool_size(10), 10);
        assert_eq!(pool_size(0), 1);
    }
}
