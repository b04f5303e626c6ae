//! Traffic shapes: pure functions from elapsed time to a target rate (actions per second).
//!
//! Every shape is a function of time only, so the schedule derived from it is reproducible and
//! unit-testable without a clock or a network.

use crate::trace::TraceRate;

/// A target-rate curve over the run. Times are seconds since the start of the run.
#[derive(Debug, Clone)]
pub enum Shape {
    /// A constant rate.
    Steady {
        /// Actions per second.
        rps: f64,
    },
    /// A straight line from `from` at the start to `to` at the end of the run.
    Ramp {
        /// Rate at the start.
        from: f64,
        /// Rate at the end.
        to: f64,
    },
    /// `base`, with `peak` for the last `length` seconds of every `every` seconds, so a run starts
    /// quiet and the first burst ends at `every`: the quiet start gives autoscalers a baseline.
    Burst {
        /// Rate between bursts.
        base: f64,
        /// Rate during a burst.
        peak: f64,
        /// Period of the bursts, in seconds.
        every: f64,
        /// Length of each burst, in seconds.
        length: f64,
    },
    /// `base`, with one jump to `peak` starting at `at` and lasting `length` seconds.
    Spike {
        /// Rate outside the spike.
        base: f64,
        /// Rate during the spike.
        peak: f64,
        /// Start of the spike, in seconds.
        at: f64,
        /// Length of the spike, in seconds.
        length: f64,
    },
    /// A compressed day: a raised cosine from `min` (at the start, "night") to `max` (mid-period).
    Diurnal {
        /// Lowest rate.
        min: f64,
        /// Highest rate.
        max: f64,
        /// Length of one "day", in seconds.
        period: f64,
    },
    /// A real trace turned into a rate curve.
    Replay(TraceRate),
}

impl Shape {
    /// Target rate at `t` seconds into a run lasting `total` seconds. Never negative.
    pub fn rate_at(&self, t: f64, total: f64) -> f64 {
        let rate = match self {
            Shape::Steady { rps } => *rps,
            Shape::Ramp { from, to } => {
                // A zero-length run has no slope; hold the start rate rather than divide by zero.
                let frac = if total > 0.0 { (t / total).clamp(0.0, 1.0) } else { 0.0 };
                from + (to - from) * frac
            }
            Shape::Burst {
                base,
                peak,
                every,
                length,
            } => {
                if *every <= 0.0 {
                    return base.max(0.0);
                }
                if t.rem_euclid(*every) >= every - length {
                    *peak
                } else {
                    *base
                }
            }
            Shape::Spike { base, peak, at, length } => {
                if t >= *at && t < at + length {
                    *peak
                } else {
                    *base
                }
            }
            Shape::Diurnal { min, max, period } => {
                if *period <= 0.0 {
                    return min.max(0.0);
                }
                let phase = std::f64::consts::TAU * t / period;
                min + (max - min) * (1.0 - phase.cos()) / 2.0
            }
            Shape::Replay(trace) => trace.rate_at(t),
        };
        rate.max(0.0)
    }

    /// A short human description for the header of the progress output.
    pub fn describe(&self) -> String {
        match self {
            Shape::Steady { rps } => format!("steady {rps}/s"),
            Shape::Ramp { from, to } => format!("ramp {from}/s -> {to}/s"),
            Shape::Burst {
                base,
                peak,
                every,
                length,
            } => {
                format!("burst {base}/s, {peak}/s for {length}s every {every}s")
            }
            Shape::Spike { base, peak, at, length } => format!("spike {base}/s, {peak}/s at {at}s for {length}s"),
            Shape::Diurnal { min, max, period } => format!("diurnal {min}/s..{max}/s over {period}s"),
            Shape::Replay(trace) => format!("replay {} points, peak {}/s", trace.len(), trace.peak_rps()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn steady_is_constant() {
        let s = Shape::Steady { rps: 50.0 };
        assert!(close(s.rate_at(0.0, 10.0), 50.0));
        assert!(close(s.rate_at(9.9, 10.0), 50.0));
    }

    #[test]
    fn ramp_goes_from_start_to_end() {
        let s = Shape::Ramp { from: 10.0, to: 110.0 };
        assert!(close(s.rate_at(0.0, 10.0), 10.0));
        assert!(close(s.rate_at(5.0, 10.0), 60.0));
        assert!(close(s.rate_at(10.0, 10.0), 110.0));
        assert!(close(s.rate_at(20.0, 10.0), 110.0));
        assert!(close(s.rate_at(3.0, 0.0), 10.0));
    }

    #[test]
    fn burst_is_peak_at_the_end_of_each_period() {
        let s = Shape::Burst {
            base: 5.0,
            peak: 100.0,
            every: 30.0,
            length: 10.0,
        };
        assert!(close(s.rate_at(0.0, 120.0), 5.0));
        assert!(close(s.rate_at(19.9, 120.0), 5.0));
        assert!(close(s.rate_at(20.0, 120.0), 100.0));
        assert!(close(s.rate_at(29.9, 120.0), 100.0));
        assert!(close(s.rate_at(30.0, 120.0), 5.0));
        assert!(close(s.rate_at(55.0, 120.0), 100.0));
    }

    #[test]
    fn spike_happens_once() {
        let s = Shape::Spike {
            base: 1.0,
            peak: 9.0,
            at: 5.0,
            length: 2.0,
        };
        assert!(close(s.rate_at(4.99, 20.0), 1.0));
        assert!(close(s.rate_at(5.0, 20.0), 9.0));
        assert!(close(s.rate_at(6.99, 20.0), 9.0));
        assert!(close(s.rate_at(7.0, 20.0), 1.0));
    }

    #[test]
    fn diurnal_starts_low_and_peaks_mid_period() {
        let s = Shape::Diurnal {
            min: 10.0,
            max: 90.0,
            period: 60.0,
        };
        assert!(close(s.rate_at(0.0, 120.0), 10.0));
        assert!(close(s.rate_at(15.0, 120.0), 50.0));
        assert!(close(s.rate_at(30.0, 120.0), 90.0));
        assert!(close(s.rate_at(60.0, 120.0), 10.0));
    }

    #[test]
    fn rates_are_never_negative() {
        let s = Shape::Ramp { from: -5.0, to: -1.0 };
        assert!(close(s.rate_at(1.0, 2.0), 0.0));
    }
}
