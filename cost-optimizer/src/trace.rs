//! Demand traces: CSV files `timestamp,value` (`YYYY-MM-DD HH:MM:SS`), possibly irregular, with
//! duplicate timestamps and gaps. They are sorted, duplicates averaged, linearly interpolated
//! onto a regular step (the HPA's 15 s sync) and scaled so that the trace's peak needs exactly
//! `peak_pods` pods of capacity 1.
//!
//! Gaps (the NASA log ends, a hurricane shut the server) are bridged by the same straight line:
//! it keeps the timeline continuous and only adds smooth, easy stretches for every policy alike.

use std::path::Path;

use chrono::NaiveDateTime;
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
    /// Values on the grid, in the trace's own unit (or pods after [`Trace::scaled_to_peak`]).
    #[serde(skip)]
    pub values: Vec<f64>,
}

impl Trace {
    /// Reads and resamples a CSV file.
    pub fn load(path: &Path, step_seconds: f64) -> Result<Self> {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_csv(&name, &text, step_seconds)
    }

    /// Parses CSV text and resamples it.
    pub fn from_csv(name: &str, text: &str, step_seconds: f64) -> Result<Self> {
        let bad = |line: usize, reason: String| Error::InvalidTrace {
            name: name.to_owned(),
            line,
            reason,
        };
        let points = parse_points(text).map_err(|(line, reason)| bad(line, reason))?;
        let source_step_seconds =
            median_step(&points).ok_or_else(|| bad(0, "needs at least two distinct timestamps".into()))?;
        Ok(Self {
            name: name.to_owned(),
            source_step_seconds,
            step_seconds,
            values: resample(&points, step_seconds),
        })
    }

    /// Duration covered, in hours.
    pub fn hours(&self) -> f64 {
        self.values.len() as f64 * self.step_seconds / 3600.0
    }

    /// Demand in pods: each value is divided by the trace's maximum and multiplied by
    /// `peak_pods`, so the peak needs exactly `peak_pods` pods. Negative values become 0.
    /// Proportional (not min-max) scaling keeps a trace's baseline: a series that never drops
    /// below 80 % of its peak stays that way.
    pub fn scaled_to_peak(&self, peak_pods: f64) -> Result<Self> {
        let max = self.values.iter().copied().fold(0.0, f64::max);
        if max <= 0.0 {
            return Err(Error::InvalidTrace {
                name: self.name.clone(),
                line: 0,
                reason: "no positive value to scale".into(),
            });
        }
        let values = self.values.iter().map(|v| v.max(0.0) / max * peak_pods).collect();
        Ok(Self { values, ..self.clone() })
    }
}

/// (seconds since the epoch, value), sorted, one per timestamp.
fn parse_points(text: &str) -> Result<Vec<(i64, f64)>, (usize, String)> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim().eq_ignore_ascii_case("timestamp,value") => {}
        _ => return Err((1, "header must be timestamp,value".into())),
    }
    let mut raw = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let (ts, v) = line.split_once(',').ok_or((i + 1, "expected two columns".to_owned()))?;
        let t = NaiveDateTime::parse_from_str(ts.trim(), "%Y-%m-%d %H:%M:%S")
            .map_err(|e| (i + 1, format!("timestamp {ts:?}: {e}")))?;
        let v: f64 = v.trim().parse().map_err(|e| (i + 1, format!("value {v:?}: {e}")))?;
        if v.is_finite() {
            raw.push((t.and_utc().timestamp(), v));
        }
    }
    raw.sort_by_key(|p| p.0);
    // Duplicates (a DST fall-back, a repeated hour) are averaged into one sample.
    let mut out: Vec<(i64, f64)> = Vec::with_capacity(raw.len());
    let mut count = 0.0;
    for (t, v) in raw {
        match out.last_mut() {
            Some(last) if last.0 == t => {
                count += 1.0;
                last.1 += (v - last.1) / count;
            }
            _ => {
                out.push((t, v));
                count = 1.0;
            }
        }
    }
    Ok(out)
}

fn median_step(points: &[(i64, f64)]) -> Option<f64> {
    let mut d: Vec<i64> = points.windows(2).map(|w| w[1].0 - w[0].0).collect();
    if d.is_empty() {
        return None;
    }
    d.sort_unstable();
    Some(d[d.len() / 2] as f64)
}

fn resample(points: &[(i64, f64)], step: f64) -> Vec<f64> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Vec::new();
    };
    let span = (last.0 - first.0) as f64;
    let n = (span / step).floor() as usize + 1;
    let mut out = Vec::with_capacity(n);
    let mut j = 0;
    for k in 0..n {
        let t = first.0 as f64 + k as f64 * step;
        while j + 2 < points.len() && (points[j + 1].0 as f64) < t {
            j += 1;
        }
        let (a, b) = (points[j], points[(j + 1).min(points.len() - 1)]);
        let w = if b.0 > a.0 {
            ((t - a.0 as f64) / (b.0 - a.0) as f64).clamp(0.0, 1.0)
        } else {
            0.0
        };
        out.push(a.1 + (b.1 - a.1) * w);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const CSV: &str = "timestamp,value\n2014-03-09 01:55:00,10\n2014-03-09 03:00:00,30\n2014-03-09 03:00:00,50\n2014-03-09 01:50:00,0\n";

    #[test]
    fn sorts_averages_duplicates_and_interpolates() {
        let t = Trace::from_csv("x", CSV, 60.0).unwrap();
        // Points: 01:50 -> 0, 01:55 -> 10, 03:00 -> 40 (30 and 50 averaged).
        assert_eq!(t.source_step_seconds, 3900.0); // upper median of 300 and 3900
        assert_eq!(t.values.len(), 71); // 70 minutes + 1
        assert_eq!(t.values[0], 0.0);
        assert!((t.values[1] - 2.0).abs() < 1e-9);
        assert!((t.values[5] - 10.0).abs() < 1e-9);
        assert!((t.values[70] - 40.0).abs() < 1e-9);
        assert!((t.values[5 + 13] - (10.0 + 30.0 * 13.0 / 65.0)).abs() < 1e-9);
    }

    #[test]
    fn scales_peak_to_pods() {
        let t = Trace::from_csv("x", CSV, 60.0).unwrap().scaled_to_peak(10.0).unwrap();
        assert_eq!(t.values.iter().copied().fold(0.0, f64::max), 10.0);
        assert!((t.values[5] - 2.5).abs() < 1e-9);
    }

    #[test]
    fn rejects_malformed_files() {
        assert!(Trace::from_csv("x", "time,v\n", 15.0).is_err());
        assert!(Trace::from_csv("x", "timestamp,value\n2014-01-01 00:00:00,1\n", 15.0).is_err());
        let e = Trace::from_csv("x", "timestamp,value\n2014-01-01 00:00:00,1\nnope,2\n", 15.0).unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
        let zero = Trace::from_csv(
            "x",
            "timestamp,value\n2014-01-01 00:00:00,0\n2014-01-01 00:05:00,0\n",
            15.0,
        )
        .unwrap();
        assert!(zero.scaled_to_peak(10.0).is_err());
    }
}
