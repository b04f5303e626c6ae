//! Demand traces for the simulator: read by the `forecast` crate's one loader, put on the
//! HPA's 15 s grid (linearly or by holding each point) and scaled to pods.
//!
//! Scaling puts the trace's 99th percentile at `p99_pods` pods of capacity 1: peaks above it
//! are what autoscaling is for. Scaling the maximum instead leaves most traces at one to
//! three pods, where a ratio of under-provisioned minutes rests on a handful of minutes.

use std::path::Path;

use forecast::trace::{Interpolation, dedup_sorted, median_step, parse_csv, regrid};
use serde::Serialize;

use crate::{Error, Result};

/// A trace on a regular grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    /// File stem, e.g. `nyc_taxi`.
    pub name: String,
    /// Median spacing of the raw samples, in seconds.
    pub source_step_seconds: f64,
    /// Grid spacing, in seconds.
    pub step_seconds: f64,
    /// How the grid was filled between raw samples.
    pub interpolation: Interpolation,
    /// Values on the grid, in the trace's own unit (or pods after [`Trace::scaled_to_p99`]).
    #[serde(skip)]
    pub values: Vec<f64>,
}

impl Trace {
    /// Reads a CSV file and puts it on the grid.
    pub fn load(path: &Path, step_seconds: f64, how: Interpolation) -> Result<Self> {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_csv(&name, &text, step_seconds, how)
    }

    /// Parses CSV text and puts it on the grid.
    pub fn from_csv(name: &str, text: &str, step_seconds: f64, how: Interpolation) -> Result<Self> {
        let bad = |line: usize, reason: String| Error::InvalidTrace {
            name: name.to_owned(),
            line,
            reason,
        };
        let points = parse_csv(text, name).map_err(|e| match e {
            forecast::ForecastError::Parse { line, message, .. } => bad(line, message),
            other => bad(0, other.to_string()),
        })?;
        let points = dedup_sorted(points);
        let source_step =
            median_step(&points).ok_or_else(|| bad(0, "needs at least two distinct timestamps".into()))?;
        Ok(Self {
            name: name.to_owned(),
            source_step_seconds: source_step as f64,
            step_seconds,
            interpolation: how,
            values: regrid(&points, step_seconds, how),
        })
    }

    /// Duration covered, in hours.
    pub fn hours(&self) -> f64 {
        self.values.len() as f64 * self.step_seconds / 3600.0
    }

    /// Demand in pods: values are multiplied so that the trace's 99th percentile needs
    /// `p99_pods` pods. Proportional (not min-max) scaling keeps a trace's baseline: a series
    /// that never drops below 80 % of its peak stays that way. Negative values become 0.
    pub fn scaled_to_p99(&self, p99_pods: f64) -> Result<Self> {
        let mut sorted: Vec<f64> = self.values.iter().map(|v| v.max(0.0)).collect();
        sorted.sort_by(f64::total_cmp);
        let rank = ((sorted.len() as f64 * 0.99).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
        let p99 = sorted.get(rank).copied().unwrap_or(0.0);
        if p99 <= 0.0 {
            return Err(Error::InvalidTrace {
                name: self.name.clone(),
                line: 0,
                reason: "99th percentile is not positive: nothing to scale".into(),
            });
        }
        let values = self.values.iter().map(|v| v.max(0.0) / p99 * p99_pods).collect();
        Ok(Self { values, ..self.clone() })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const CSV: &str = "timestamp,value\n2014-03-09 01:55:00,10\n2014-03-09 03:00:00,30\n2014-03-09 03:00:00,50\n2014-03-09 01:50:00,0\n";

    #[test]
    fn sorts_averages_duplicates_and_fills_the_grid() {
        let t = Trace::from_csv("x", CSV, 60.0, Interpolation::Linear).unwrap();
        assert_eq!(t.source_step_seconds, 3900.0); // upper median of 300 and 3900
        assert_eq!(t.values.len(), 71);
        assert!((t.values[1] - 2.0).abs() < 1e-9);
        let hold = Trace::from_csv("x", CSV, 60.0, Interpolation::Hold).unwrap();
        assert_eq!((hold.values[1], hold.values[69]), (0.0, 10.0));
    }

    #[test]
    fn the_99th_percentile_becomes_the_pods_asked_for() {
        // 1..=200: the 99th percentile is 198, the peak 200
        let text: String = std::iter::once("timestamp,value\n".to_owned())
            .chain((1..=200).map(|i| format!("2014-03-09 {:02}:{:02}:00,{i}\n", i / 60, i % 60)))
            .collect();
        let t = Trace::from_csv("x", &text, 60.0, Interpolation::Hold).unwrap();
        let s = t.scaled_to_p99(10.0).unwrap();
        let max = s.values.iter().copied().fold(0.0, f64::max);
        assert!((max - 10.0 * 200.0 / 198.0).abs() < 1e-9, "{max}");
    }

    #[test]
    fn rejects_malformed_files() {
        assert!(
            Trace::from_csv(
                "x",
                "timestamp,value\n2014-01-01 00:00:00,1\n",
                15.0,
                Interpolation::Linear
            )
            .is_err()
        );
        let e = Trace::from_csv(
            "x",
            "timestamp,value\n2014-01-01 00:00:00,1\nnope,2\n",
            15.0,
            Interpolation::Linear,
        )
        .unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
        let zero = "timestamp,value\n2014-01-01 00:00:00,0\n2014-01-01 00:05:00,0\n";
        let zero = Trace::from_csv("x", zero, 15.0, Interpolation::Linear).unwrap();
        assert!(zero.scaled_to_p99(10.0).is_err());
    }
}
