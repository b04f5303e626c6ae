//! The one loader of `timestamp,value` CSV traces (the format of `shared/traces/`), shared by
//! the predictor's backtest, the simulator and the load generator's replay.
//!
//! A trace is read into sorted points, one per timestamp (duplicates, e.g. the DST repeats of
//! the NAB files, are averaged), and can then be put on any regular grid. How the grid is
//! filled between two points is a choice that changes what a forecaster can do: a straight
//! line ([`Interpolation::Linear`]) is perfectly extrapolated by a short-horizon trend, while
//! holding each value until the next point ([`Interpolation::Hold`]) turns every point into a
//! step nobody could foresee. The simulator reports both, so a claim does not rest on one.

use std::path::Path;

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::{ForecastError, Result};

/// How a grid slot between two trace points gets its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    /// Along the straight line between the two points.
    Linear,
    /// The earlier point's value, held until the next point.
    Hold,
}

impl Interpolation {
    /// Both, in report order.
    pub const ALL: [Interpolation; 2] = [Interpolation::Linear, Interpolation::Hold];

    /// The CLI and report spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Interpolation::Linear => "linear",
            Interpolation::Hold => "hold",
        }
    }
}

impl std::str::FromStr for Interpolation {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| format!("unknown interpolation {s:?} (linear, hold)"))
    }
}

/// Parses `timestamp,value` CSV text (header line optional, timestamps `YYYY-MM-DD HH:MM:SS`
/// read as UTC) into points in file order. `origin` names the source in error messages.
pub fn parse_csv(text: &str, origin: &str) -> Result<Vec<(i64, f64)>> {
    let mut points = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.starts_with("timestamp")) {
            continue;
        }
        let err = |message: String| ForecastError::Parse {
            path: origin.to_owned(),
            line: i + 1,
            message,
        };
        let (ts, value) = line
            .split_once(',')
            .ok_or_else(|| err("expected timestamp,value".into()))?;
        let ts = NaiveDateTime::parse_from_str(ts.trim(), "%Y-%m-%d %H:%M:%S")
            .map_err(|e| err(format!("bad timestamp: {e}")))?;
        let value: f64 = value.trim().parse().map_err(|e| err(format!("bad value: {e}")))?;
        if !value.is_finite() {
            return Err(err("value is not finite".into()));
        }
        points.push((ts.and_utc().timestamp(), value));
    }
    Ok(points)
}

/// Reads a CSV file into points sorted by time, one per timestamp (duplicates averaged).
pub fn read_points(path: &Path) -> Result<Vec<(i64, f64)>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ForecastError::Io {
        path: name.clone(),
        source,
    })?;
    Ok(dedup_sorted(parse_csv(&text, &name)?))
}

/// Sorts points by time and averages those that share a timestamp.
pub fn dedup_sorted(mut points: Vec<(i64, f64)>) -> Vec<(i64, f64)> {
    points.sort_by_key(|p| p.0);
    let mut out: Vec<(i64, f64)> = Vec::with_capacity(points.len());
    let mut count = 0.0;
    for (t, v) in points {
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
    out
}

/// Median gap between consecutive sorted points, in seconds (`None` below two points).
pub fn median_step(points: &[(i64, f64)]) -> Option<i64> {
    let mut d: Vec<i64> = points.windows(2).map(|w| w[1].0 - w[0].0).filter(|g| *g > 0).collect();
    if d.is_empty() {
        return None;
    }
    d.sort_unstable();
    Some(d[d.len() / 2])
}

/// Values of sorted, distinct points on a grid of `step` seconds from the first point to the
/// last. Gaps longer than the trace's usual step (a log that ended) are bridged the same way.
pub fn regrid(points: &[(i64, f64)], step: f64, how: Interpolation) -> Vec<f64> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Vec::new();
    };
    let n = ((last.0 - first.0) as f64 / step).floor() as usize + 1;
    let mut out = Vec::with_capacity(n);
    let mut j = 0;
    for k in 0..n {
        let t = first.0 as f64 + k as f64 * step;
        // Advance to the last point at or before t.
        while j + 1 < points.len() && points[j + 1].0 as f64 <= t {
            j += 1;
        }
        let a = points[j];
        let value = match (how, points.get(j + 1)) {
            (Interpolation::Linear, Some(b)) => {
                let w = (t - a.0 as f64) / (b.0 - a.0) as f64;
                a.1 + (b.1 - a.1) * w.clamp(0.0, 1.0)
            }
            _ => a.1,
        };
        out.push(value);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const CSV: &str = "timestamp,value\n2014-03-09 01:55:00,10\n2014-03-09 03:00:00,30\n2014-03-09 03:00:00,50\n2014-03-09 01:50:00,0\n";

    fn points() -> Vec<(i64, f64)> {
        dedup_sorted(parse_csv(CSV, "t").unwrap())
    }

    #[test]
    fn csv_is_parsed_with_header_and_naive_timestamps() {
        let text = "timestamp,value\n2014-02-14 14:30:00,0.5\n2014-02-14 14:35:00,1.5\n";
        let points = parse_csv(text, "t").unwrap();
        assert_eq!(points, vec![(1_392_388_200, 0.5), (1_392_388_500, 1.5)]);
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let err = parse_csv("timestamp,value\n2014-02-14 14:30:00,abc\n", "f").unwrap_err();
        assert!(matches!(err, ForecastError::Parse { line: 2, .. }), "{err}");
        assert!(parse_csv("timestamp,value\nnope\n", "f").is_err());
        assert!(parse_csv("2014-02-14 14:30:00,NaN\n", "f").is_err());
    }

    #[test]
    fn duplicates_are_averaged_and_points_sorted() {
        let p = points();
        assert_eq!(p.iter().map(|x| x.1).collect::<Vec<_>>(), vec![0.0, 10.0, 40.0]);
        assert_eq!(median_step(&p), Some(3900));
        assert_eq!(median_step(&p[..1]), None);
    }

    #[test]
    fn linear_follows_the_line_and_hold_keeps_the_last_point() {
        let p = points();
        let linear = regrid(&p, 60.0, Interpolation::Linear);
        let hold = regrid(&p, 60.0, Interpolation::Hold);
        assert_eq!((linear.len(), hold.len()), (71, 71));
        assert!((linear[1] - 2.0).abs() < 1e-9);
        assert!((linear[5 + 13] - (10.0 + 30.0 * 13.0 / 65.0)).abs() < 1e-9);
        assert_eq!((hold[1], hold[5], hold[69], hold[70]), (0.0, 10.0, 10.0, 40.0));
        assert_eq!(linear[70], 40.0);
        assert_eq!("hold".parse::<Interpolation>().unwrap(), Interpolation::Hold);
        assert!("cubic".parse::<Interpolation>().is_err());
    }
}
