//! Limits on what requests can make the predictor do: how many fits run at once
//! ([`FitSlots`], 503 when full) and how often one service can be retrained
//! ([`RetrainLimiter`], 429 when too soon). Both answer at once instead of queueing: a
//! queued fit holds its request (and its caller's timeout) for nothing, and a caller told
//! when to come back can decide for itself.
//!
//! The refresh loop's own fits do not take a slot: they are paced by `--refresh` and one
//! service at a time, and requests must not be refused because the loop is working.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::Error;

/// What a 503 for a full set of fit slots tells the caller to wait, in seconds: about what
/// a large what-if fit takes.
pub const BUSY_RETRY_AFTER_SECONDS: u64 = 1;

/// The fits requests may run at once (`POST /forecast`, `GET /predict?horizon=`).
#[derive(Debug, Clone)]
pub struct FitSlots(Arc<Semaphore>);

impl FitSlots {
    /// `slots` fits at once.
    pub fn new(slots: usize) -> Self {
        Self(Arc::new(Semaphore::new(slots)))
    }

    /// A slot, held until the permit drops, or [`Error::Busy`] at once when all are taken.
    /// Move the permit into the blocking task: a request that times out drops its future
    /// but not the fit, which keeps its slot until it really ends.
    pub fn try_acquire(&self) -> Result<OwnedSemaphorePermit, Error> {
        Arc::clone(&self.0).try_acquire_owned().map_err(|_| Error::Busy {
            retry_after_seconds: BUSY_RETRY_AFTER_SECONDS,
        })
    }

    /// Slots free now.
    pub fn available(&self) -> usize {
        self.0.available_permits()
    }
}

/// At most one retrain per service per interval. Only services the predictor forecasts are
/// recorded (the handler checks the name first), so the map stays as small as the
/// configured list.
#[derive(Debug)]
pub struct RetrainLimiter {
    interval: Duration,
    last: Mutex<HashMap<String, Instant>>,
}

impl RetrainLimiter {
    /// One retrain per service per `interval`; zero lets every request through.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: Mutex::new(HashMap::new()),
        }
    }

    /// Records a retrain of `service` at `now`, or refuses it with the time left until the
    /// next one is allowed. A refused request does not restart the interval.
    pub fn check(&self, service: &str, now: Instant) -> Result<(), Duration> {
        // Each writer replaces one whole value, so a poisoned lock is still consistent.
        let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(previous) = last.get(service) {
            let elapsed = now.saturating_duration_since(*previous);
            if elapsed < self.interval {
                return Err(self.interval - elapsed);
            }
        }
        last.insert(service.to_owned(), now);
        Ok(())
    }
}

/// `Retry-After` seconds for a wait: rounded up, so a caller that waits that long is let in.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    let whole = wait.as_secs();
    match wait.subsec_nanos() {
        0 => whole.max(1),
        _ => whole + 1,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_full_set_of_slots_is_busy_until_a_permit_drops() {
        let slots = FitSlots::new(2);
        let first = slots.try_acquire().unwrap();
        let _second = slots.try_acquire().unwrap();
        let busy = slots.try_acquire().unwrap_err();
        assert!(matches!(busy, Error::Busy { retry_after_seconds: 1 }), "{busy:?}");
        drop(first);
        assert_eq!(slots.available(), 1);
        assert!(slots.try_acquire().is_ok());
    }

    #[test]
    fn one_retrain_per_service_per_interval() {
        let limiter = RetrainLimiter::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(limiter.check("a", t0), Ok(()));
        // Another service has its own interval.
        assert_eq!(limiter.check("b", t0 + Duration::from_secs(1)), Ok(()));
        assert_eq!(limiter.check("a", t0), Err(Duration::from_secs(60)));
        assert_eq!(
            limiter.check("a", t0 + Duration::from_millis(59_500)),
            Err(Duration::from_millis(500))
        );
        // A refusal does not restart the interval: at 60 s the next one is let in.
        assert_eq!(limiter.check("a", t0 + Duration::from_secs(60)), Ok(()));
        assert_eq!(
            limiter.check("a", t0 + Duration::from_secs(61)),
            Err(Duration::from_secs(59))
        );
    }

    #[test]
    fn a_zero_interval_lets_everything_through() {
        let limiter = RetrainLimiter::new(Duration::ZERO);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check("a", t0), Ok(()));
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::from_millis(500)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(59)), 59);
        assert_eq!(retry_after_seconds(Duration::from_millis(59_001)), 60);
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
    }
}
