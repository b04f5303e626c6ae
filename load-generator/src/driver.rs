//! The open-loop driver: starts each action when it is due, whether or not earlier ones answered.
//! It drives the shop scenarios; a plain `--url` run uses [`fast`](crate::fast), which keeps the
//! same contract with a pool of connections instead of a task per action.
//!
//! Pacing runs on its own OS thread with `std::thread::sleep`, not on a tokio timer: tokio's timer
//! wheel has a one-millisecond tick and woke actions about 1.2 ms late at the median, which every
//! latency measured from the due time would then carry. A thread sleep is off by tens of
//! microseconds. The thread hands each action to the runtime with `Handle::spawn`.
//!
//! A semaphore caps the actions in flight so a dead target cannot exhaust sockets or memory. When
//! the cap is full at a due time the action waits for a slot and is counted as held back; its
//! latency is still measured from the due time, so the wait shows in the percentiles instead of
//! silently lowering the rate (coordinated omission). After the run the driver waits up to a grace
//! period for what is in flight, so every answer that arrives is counted.

use crate::report::progress_line;
use crate::schedule::Schedule;
use crate::shape::Shape;
use crate::stats::{SharedRecorder, lock};
use std::future::Future;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant as StdInstant};
use tokio::runtime::Handle;
use tokio::sync::{Notify, Semaphore, oneshot};
use tokio::time::{Instant, sleep_until, timeout};

/// The pacer checks for a stop at least this often while sleeping towards a far due time.
const STOP_CHECK: Duration = Duration::from_millis(10);

/// How long after the end of the run the pacer may still start actions that were due before it.
const PACER_GRACE: Duration = Duration::from_secs(1);

/// How to run the schedule.
#[derive(Debug, Clone)]
pub struct RunPlan {
    /// Target rate over time.
    pub shape: Shape,
    /// Length of the run.
    pub duration: Duration,
    /// Most actions in flight at once.
    pub max_in_flight: usize,
    /// How long to wait for in-flight actions after the run (or after Ctrl-C).
    pub drain_grace: Duration,
    /// Print a progress line to stderr about once a second.
    pub progress: bool,
}

/// How the run ended.
#[derive(Debug, Clone, Copy)]
pub struct RunEnd {
    /// Seconds from start to the end of scheduling (the planned duration unless stopped early).
    pub elapsed_secs: f64,
    /// Whether `stop` cut the run short.
    pub interrupted: bool,
}

/// What the pacer thread shares with the async side.
struct Pacer {
    semaphore: Arc<Semaphore>,
    recorder: SharedRecorder,
    stopped: AtomicBool,
    /// Wakes the pacer if it is waiting for a slot when the run stops.
    wake: Notify,
}

/// Runs `plan`, calling `perform(due)` for each action as it falls due, until the plan's duration
/// has passed or `stop` resolves. Must be called inside a multi-thread tokio runtime.
pub async fn run<F, Fut>(plan: RunPlan, recorder: SharedRecorder, perform: F, stop: impl Future<Output = ()>) -> RunEnd
where
    F: Fn(Instant) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let cap = plan
        .max_in_flight
        .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
    let total = plan.duration.as_secs_f64();
    let pacer = Arc::new(Pacer {
        semaphore: Arc::new(Semaphore::new(cap)),
        recorder: recorder.clone(),
        stopped: AtomicBool::new(false),
        wake: Notify::new(),
    });
    let start = StdInstant::now();
    let tokio_start = Instant::from_std(start);
    let progress = plan
        .progress
        .then(|| tokio::spawn(progress(plan.shape.clone(), total, tokio_start, recorder.clone())));
    // The sender is dropped when the pacer thread ends, which resolves `paced`.
    let (done, mut paced) = oneshot::channel::<()>();
    let thread = {
        let (pacer, handle, schedule) = (
            pacer.clone(),
            Handle::current(),
            Schedule::new(plan.shape.clone(), total),
        );
        std::thread::Builder::new().name("pacer".into()).spawn(move || {
            pace(&pacer, &handle, schedule, start, perform);
            drop(done);
        })
    };

    tokio::pin!(stop);
    let mut interrupted = tokio::select! {
        biased;
        () = &mut stop => true,
        () = sleep_until(tokio_start + plan.duration) => false,
    };
    if !interrupted {
        // The last actions were due just before the end; let a pacer that runs a little behind
        // start them rather than race it. It only stays longer when blocked on a full cap.
        tokio::select! {
            biased;
            () = &mut stop => interrupted = true,
            _ = &mut paced => {}
            () = tokio::time::sleep(PACER_GRACE) => {}
        }
    }
    let elapsed_secs = start.elapsed().as_secs_f64().min(total);
    pacer.stopped.store(true, Ordering::SeqCst);
    // `notify_one` keeps a permit if the pacer is not waiting yet, so the wake cannot be lost.
    pacer.wake.notify_one();
    match thread {
        Ok(thread) => {
            if tokio::task::spawn_blocking(move || thread.join())
                .await
                .map_or(true, |joined| joined.is_err())
            {
                tracing::error!("pacer thread panicked");
            }
        }
        Err(error) => tracing::error!(error.message = %error, "cannot start the pacer thread"),
    }

    let semaphore = &pacer.semaphore;
    let in_flight = cap - semaphore.available_permits();
    if in_flight > 0 {
        tracing::info!(
            in_flight,
            grace_secs = plan.drain_grace.as_secs_f64(),
            "waiting for requests in flight"
        );
    }
    let all = u32::try_from(cap).unwrap_or(u32::MAX);
    if timeout(plan.drain_grace, semaphore.acquire_many(all)).await.is_err() {
        let abandoned = (cap - semaphore.available_permits()) as u64;
        tracing::warn!(abandoned, "drain grace period over, abandoning requests in flight");
        lock(&recorder).run.abandoned = abandoned;
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

/// The pacer thread: sleeps until each due time and spawns the action on the runtime.
fn pace<F, Fut>(pacer: &Pacer, handle: &Handle, mut schedule: Schedule, start: StdInstant, perform: F)
where
    F: Fn(Instant) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    while let Some(offset) = schedule.next() {
        let due = start + Duration::from_secs_f64(offset);
        loop {
            if pacer.stopped.load(Ordering::SeqCst) {
                return;
            }
            let now = StdInstant::now();
            if now >= due {
                break;
            }
            std::thread::sleep((due - now).min(STOP_CHECK));
        }
        lock(&pacer.recorder).run.scheduled += 1;
        let permit = match pacer.semaphore.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                lock(&pacer.recorder).run.held_back += 1;
                let waited = handle.block_on(async {
                    tokio::select! {
                        permit = pacer.semaphore.clone().acquire_owned() => permit.ok(),
                        () = pacer.wake.notified() => None,
                    }
                });
                match waited {
                    Some(permit) => permit,
                    None => {
                        // Stopped while waiting: this action and every later one already due never started.
                        let now = start.elapsed().as_secs_f64();
                        let missed = schedule.by_ref().take_while(|o| *o <= now).count() as u64;
                        let mut r = lock(&pacer.recorder);
                        r.run.scheduled += missed;
                        r.run.not_started += missed + 1;
                        return;
                    }
                }
            }
        };
        let action = perform(Instant::from_std(due));
        handle.spawn(async move {
            action.await;
            drop(permit);
        });
    }
}

/// Prints the progress line once a second. On a terminal it rewrites one line; otherwise (CI logs)
/// it prints one line per second.
pub(crate) async fn progress(shape: Shape, total: f64, start: Instant, recorder: SharedRecorder) {
    let terminal = std::io::stderr().is_terminal();
    let mut ticker = tokio::time::interval_at(start + Duration::from_secs(1), Duration::from_secs(1));
    let (mut last_count, mut last_at) = (0u64, start);
    loop {
        let now = ticker.tick().await;
        let elapsed = now.saturating_duration_since(start).as_secs_f64();
        let line = {
            let r = lock(&recorder);
            let count = r.total.count();
            let dt = now.saturating_duration_since(last_at).as_secs_f64();
            let achieved = if dt > 0.0 {
                count.saturating_sub(last_count) as f64 / dt
            } else {
                0.0
            };
            (last_count, last_at) = (count, now);
            progress_line(elapsed, shape.rate_at(elapsed, total), achieved, &r)
        };
        let mut err = std::io::stderr().lock();
        // Progress is best effort: a closed stderr must not stop the run.
        let _ = if terminal {
            write!(err, "\r{line}\x1b[K")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    }
}
