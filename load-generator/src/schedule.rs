//! The send schedule: when each action is due, derived from a [`Shape`] by integrating its rate.
//!
//! The n-th action is due when the integral of the rate reaches n - 1/2, so a steady rate puts
//! actions mid-way in their slots and a run of `d` seconds at `r` per second holds exactly `r * d`
//! of them. The schedule is a pure iterator over offsets from the start: the driver sleeps until
//! each one, and tests count them per second without a clock.

use crate::shape::Shape;

/// Integration step in seconds. One millisecond keeps the error at a rate change below one action
/// per change at rates up to 1,000 per second, and costs little even over long idle gaps.
const TICK: f64 = 0.001;

/// Iterator over due times, in seconds from the start of the run, ascending and below `total`.
#[derive(Debug, Clone)]
pub struct Schedule {
    shape: Shape,
    total: f64,
    /// Time up to which the rate has been integrated.
    t: f64,
    /// Fraction of an action owed at `t`.
    owed: f64,
}

impl Schedule {
    /// A schedule for `shape` over a run of `total` seconds.
    pub fn new(shape: Shape, total: f64) -> Self {
        Self {
            shape,
            total,
            t: 0.0,
            owed: 0.5,
        }
    }
}

impl Iterator for Schedule {
    type Item = f64;

    fn next(&mut self) -> Option<f64> {
        while self.t < self.total {
            let step = TICK.min(self.total - self.t);
            // The rate at the middle of the step stands for the whole step.
            let rate = self.shape.rate_at(self.t + step / 2.0, self.total);
            if rate > 0.0 && self.owed + rate * step >= 1.0 {
                let due = self.t + (1.0 - self.owed) / rate;
                self.t = due;
                self.owed = 0.0;
                return (due < self.total).then_some(due);
            }
            self.owed += rate * step;
            self.t += step;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TraceRate;

    fn per_second(shape: Shape, total: f64) -> Vec<usize> {
        let mut counts = vec![0; total.ceil() as usize];
        for due in Schedule::new(shape, total) {
            counts[due as usize] += 1;
        }
        counts
    }

    #[test]
    fn steady_gives_exactly_rate_times_duration() {
        let dues: Vec<f64> = Schedule::new(Shape::Steady { rps: 200.0 }, 2.0).collect();
        assert_eq!(dues.len(), 400);
        assert!((dues[0] - 0.0025).abs() < 1e-9);
        assert!(dues.windows(2).all(|w| (w[1] - w[0] - 0.005).abs() < 1e-6));
    }

    #[test]
    fn zero_rate_schedules_nothing() {
        assert_eq!(Schedule::new(Shape::Steady { rps: 0.0 }, 5.0).count(), 0);
    }

    #[test]
    fn ramp_total_is_the_area_under_the_line() {
        let count = Schedule::new(Shape::Ramp { from: 0.0, to: 100.0 }, 10.0).count();
        assert!((499..=501).contains(&count), "{count}");
        let counts = per_second(Shape::Ramp { from: 0.0, to: 100.0 }, 10.0);
        assert!(counts[0] <= 6 && counts[9] >= 94, "{counts:?}");
    }

    #[test]
    fn burst_per_second_counts_follow_the_shape() {
        let shape = Shape::Burst {
            base: 10.0,
            peak: 100.0,
            every: 4.0,
            length: 1.0,
        };
        let counts = per_second(shape, 8.0);
        let expected = [10, 10, 10, 100, 10, 10, 10, 100];
        for (got, want) in counts.iter().zip(expected) {
            assert!(got.abs_diff(want) <= 1, "{counts:?}");
        }
    }

    #[test]
    fn replay_per_second_counts_match_the_scaled_trace() {
        // One point a minute, replayed 60 times faster: one point per second.
        let values = [12.0, 30.0, 60.0, 45.0, 0.0, 6.0, 24.0, 60.0];
        let csv: String = values
            .iter()
            .enumerate()
            .map(|(minute, v)| format!("2014-02-14 14:{minute:02}:00,{v}\n"))
            .collect();
        let trace = TraceRate::from_csv(&csv, 60.0, 200.0).unwrap();
        let total = trace.duration_secs();
        let counts = per_second(Shape::Replay(trace), total);
        assert_eq!(counts.len(), values.len());
        for (got, v) in counts.iter().zip(values) {
            let want = (v / 60.0 * 200.0) as usize;
            assert!(got.abs_diff(want) <= 1, "got {counts:?}, want scaled {values:?}");
        }
    }
}
