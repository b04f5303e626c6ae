//! Turning a `timestamp,value` CSV trace (the format of `shared/traces/`) into a rate curve.
//! The file is read by the `forecast` crate's one trace loader, as the simulator and the
//! predictor's backtest read it (duplicate timestamps averaged, points sorted).
//!
//! Time is compressed by `speedup` (60 turns one minute of trace into one second of load) and
//! values are scaled so the trace's maximum becomes `peak_rps`. Each point holds its rate for one
//! typical sampling interval (the median spacing); past that the rate is zero, so a gap in a trace
//! (a log that ended, a server that was down) replays as silence instead of a stretched last value.

use anyhow::{Context, bail};
use forecast::trace::{dedup_sorted, parse_csv};
use std::path::Path;

/// A trace as a piecewise-constant rate curve over scaled time.
#[derive(Debug, Clone)]
pub struct TraceRate {
    /// Scaled start time of each point, in seconds, ascending.
    starts: Vec<f64>,
    /// Rate (actions per second) from each start.
    rates: Vec<f64>,
    /// How long (scaled seconds) one point holds its rate at most.
    step: f64,
    peak_rps: f64,
}

impl TraceRate {
    /// Reads and converts a CSV trace file.
    pub fn from_file(path: &Path, speedup: f64, peak_rps: f64) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading trace {}", path.display()))?;
        Self::from_csv(&text, speedup, peak_rps).with_context(|| format!("parsing trace {}", path.display()))
    }

    /// Converts CSV text: an optional `timestamp,value` header, then `YYYY-MM-DD HH:MM:SS,number` rows.
    pub fn from_csv(text: &str, speedup: f64, peak_rps: f64) -> anyhow::Result<Self> {
        Self::from_points(parse_csv(text, "trace")?, speedup, peak_rps)
    }

    /// Converts `(unix seconds, value)` points in any order. Duplicate timestamps (DST
    /// changes) are averaged.
    pub fn from_points(points: Vec<(i64, f64)>, speedup: f64, peak_rps: f64) -> anyhow::Result<Self> {
        if !(speedup > 0.0 && speedup.is_finite()) {
            bail!("speedup must be positive, got {speedup}");
        }
        if !(peak_rps >= 0.0 && peak_rps.is_finite()) {
            bail!("peak rate must be non-negative, got {peak_rps}");
        }
        let points = dedup_sorted(points);
        let Some(&(t0, _)) = points.first() else {
            bail!("trace has no data rows")
        };
        let max = points.iter().map(|(_, v)| *v).fold(f64::NEG_INFINITY, f64::max);
        if !(max > 0.0 && max.is_finite()) {
            bail!("trace has no positive value to scale to the peak rate");
        }
        let starts: Vec<f64> = points.iter().map(|(ts, _)| (ts - t0) as f64 / speedup).collect();
        let rates = points.iter().map(|(_, v)| v.max(0.0) / max * peak_rps).collect();
        let mut gaps: Vec<f64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_by(f64::total_cmp);
        // A single point has no spacing; give it one scaled minute, the finest interval in our traces.
        let step = gaps.get(gaps.len() / 2).copied().unwrap_or(60.0 / speedup);
        Ok(Self {
            starts,
            rates,
            step,
            peak_rps,
        })
    }

    /// Rate at `t` scaled seconds from the start of the trace.
    pub fn rate_at(&self, t: f64) -> f64 {
        let index = self.starts.partition_point(|start| *start <= t);
        if index == 0 {
            return 0.0;
        }
        let i = index - 1;
        if t < self.starts[i] + self.step {
            self.rates[i]
        } else {
            0.0
        }
    }

    /// Length of the replay in scaled seconds: the last point's start plus its hold time.
    pub fn duration_secs(&self) -> f64 {
        self.starts.last().map_or(0.0, |last| last + self.step)
    }

    /// Number of points in the trace.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether the trace has no points (never true for a successfully built trace).
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The rate the trace's maximum maps to.
    pub fn peak_rps(&self) -> f64 {
        self.peak_rps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "timestamp,value\n\
        1995-07-01 00:00:00,10\n\
        1995-07-01 00:01:00,20\n\
        1995-07-01 00:02:00,40\n\
        1995-07-01 00:03:00,20\n";

    #[test]
    fn scales_time_and_values() {
        let trace = TraceRate::from_csv(CSV, 60.0, 100.0).unwrap();
        assert_eq!(trace.len(), 4);
        assert_eq!(trace.rate_at(0.5), 25.0);
        assert_eq!(trace.rate_at(1.0), 50.0);
        assert_eq!(trace.rate_at(2.99), 100.0);
        assert_eq!(trace.rate_at(3.5), 50.0);
        assert_eq!(trace.rate_at(4.0), 0.0);
        assert_eq!(trace.rate_at(-1.0), 0.0);
        assert_eq!(trace.duration_secs(), 4.0);
    }

    #[test]
    fn gaps_replay_as_silence() {
        let csv = "2020-01-01 00:00:00,5\n2020-01-01 00:01:00,5\n2020-01-01 00:02:00,5\n2020-01-01 01:00:00,10\n";
        let trace = TraceRate::from_csv(csv, 60.0, 10.0).unwrap();
        assert_eq!(trace.rate_at(2.5), 5.0);
        assert_eq!(trace.rate_at(30.0), 0.0);
        assert_eq!(trace.rate_at(60.5), 10.0);
    }

    #[test]
    fn duplicate_timestamps_are_averaged_and_order_does_not_matter() {
        let csv = "2020-01-01 00:01:00,4\n2020-01-01 00:00:00,1\n2020-01-01 00:00:00,2\n";
        let trace = TraceRate::from_csv(csv, 60.0, 4.0).unwrap();
        assert_eq!(trace.len(), 2);
        assert_eq!(trace.rate_at(0.0), 1.5);
        assert_eq!(trace.rate_at(1.0), 4.0);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(TraceRate::from_csv("timestamp,value\n", 1.0, 1.0).is_err());
        assert!(TraceRate::from_csv("2020-01-01T00:00:00,1\n", 1.0, 1.0).is_err());
        assert!(TraceRate::from_csv("2020-01-01 00:00:00,x\n", 1.0, 1.0).is_err());
        assert!(TraceRate::from_csv("2020-01-01 00:00:00,0\n", 1.0, 1.0).is_err());
        assert!(TraceRate::from_csv(CSV, 0.0, 1.0).is_err());
    }
}
