//! A circuit breaker as a pure state machine over explicit instants, so that its
//! behaviour is unit-tested without sleeping and without Redis.
//!
//! Closed: every call goes through; `threshold` consecutive failures open it. Open:
//! calls are refused (the caller goes straight to the database) until the cool-down
//! has passed. Half-open: one probe goes through; its success closes the breaker, its
//! failure opens it for another cool-down. A probe that never reports (its request
//! was cancelled) is replaced by another after `probe_timeout`, so the breaker cannot
//! stay half-open forever.

use std::time::{Duration, Instant};

/// Where the breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Calls go through; counts consecutive failures.
    Closed {
        /// Failures since the last success.
        failures: u32,
    },
    /// Calls are refused until `until`.
    Open {
        /// End of the cool-down.
        until: Instant,
    },
    /// One probe is in flight since `since`; other calls are refused.
    HalfOpen {
        /// When the probe was let through.
        since: Instant,
    },
}

/// The breaker's settings and state.
#[derive(Debug, Clone)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    probe_timeout: Duration,
    state: State,
}

impl Breaker {
    /// A closed breaker. `threshold` is at least 1.
    pub fn new(threshold: u32, cooldown: Duration, probe_timeout: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown,
            probe_timeout,
            state: State::Closed { failures: 0 },
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether calls go through as a rule (closed); open and half-open count as down.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed { .. })
    }

    /// Whether a call may go out at `now`; letting one through after the cool-down
    /// makes it the half-open probe.
    pub fn admit(&mut self, now: Instant) -> bool {
        match self.state {
            State::Closed { .. } => true,
            State::Open { until } if now >= until => {
                self.state = State::HalfOpen { since: now };
                true
            }
            State::Open { .. } => false,
            State::HalfOpen { since } if now.saturating_duration_since(since) >= self.probe_timeout => {
                self.state = State::HalfOpen { since: now };
                true
            }
            State::HalfOpen { .. } => false,
        }
    }

    /// A call succeeded: the cache answers, close.
    pub fn success(&mut self) {
        self.state = State::Closed { failures: 0 };
    }

    /// A call failed at `now`: open after `threshold` in a row, or at once when probing.
    pub fn failure(&mut self, now: Instant) {
        self.state = match self.state {
            State::Closed { failures } if failures + 1 < self.threshold => State::Closed { failures: failures + 1 },
            State::Closed { .. } | State::HalfOpen { .. } => State::Open {
                until: now + self.cooldown,
            },
            // A call admitted before the breaker opened: the cool-down already runs.
            open @ State::Open { .. } => open,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOL: Duration = Duration::from_secs(5);
    const PROBE: Duration = Duration::from_millis(100);

    fn open_breaker(t0: Instant) -> Breaker {
        let mut b = Breaker::new(3, COOL, PROBE);
        for _ in 0..3 {
            assert!(b.admit(t0));
            b.failure(t0);
        }
        b
    }

    #[test]
    fn opens_after_threshold_consecutive_failures_only() {
        let t0 = Instant::now();
        let mut b = Breaker::new(3, COOL, PROBE);
        b.failure(t0);
        b.failure(t0);
        b.success();
        b.failure(t0);
        b.failure(t0);
        assert!(b.is_closed(), "a success in between resets the count");
        b.failure(t0);
        assert_eq!(b.state(), State::Open { until: t0 + COOL });
        assert!(!b.admit(t0 + COOL - Duration::from_millis(1)));
    }

    #[test]
    fn half_opens_after_the_cooldown_with_a_single_probe() {
        let t0 = Instant::now();
        let mut b = open_breaker(t0);
        let t1 = t0 + COOL;
        assert!(b.admit(t1), "the probe");
        assert!(!b.admit(t1), "only one probe at a time");
        b.success();
        assert!(b.is_closed());
        assert!(b.admit(t1));
    }

    #[test]
    fn a_failed_probe_opens_for_another_cooldown() {
        let t0 = Instant::now();
        let mut b = open_breaker(t0);
        let t1 = t0 + COOL;
        assert!(b.admit(t1));
        b.failure(t1);
        assert_eq!(b.state(), State::Open { until: t1 + COOL });
        assert!(!b.admit(t1 + COOL / 2));
    }

    #[test]
    fn a_lost_probe_is_replaced_after_the_probe_timeout() {
        let t0 = Instant::now();
        let mut b = open_breaker(t0);
        let t1 = t0 + COOL;
        assert!(b.admit(t1));
        assert!(!b.admit(t1 + PROBE / 2));
        assert!(b.admit(t1 + PROBE));
    }

    #[test]
    fn a_late_failure_does_not_extend_the_cooldown() {
        let t0 = Instant::now();
        let mut b = open_breaker(t0);
        b.failure(t0 + Duration::from_secs(1));
        assert_eq!(b.state(), State::Open { until: t0 + COOL });
    }

    #[test]
    fn threshold_zero_means_one() {
        let t0 = Instant::now();
        let mut b = Breaker::new(0, COOL, PROBE);
        b.failure(t0);
        assert!(!b.is_closed());
    }
}
