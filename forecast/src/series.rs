//! A regular time series (start, step, values) and the loader for `timestamp,value` CSV traces.
//!
//! Models assume a regular grid, so irregular input is resampled first ([`Series::resample`]):
//! each point goes to the bucket of the nearest grid slot, a slot with several points takes
//! their mean (duplicate timestamps, e.g. the DST repeats in the NAB traces), and an empty slot
//! is filled by linear interpolation between its nearest non-empty neighbours. Interpolation
//! is the only filling done; the count of filled slots is reported so callers can judge it.
//! Timestamps are Unix seconds; CSV timestamps carry no zone and are read as UTC wall clock.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{ForecastError, Result};

/// A time series on a regular grid: value `i` belongs to `start + i * step_seconds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    start: i64,
    step_seconds: i64,
    values: Vec<f64>,
}

/// The outcome of [`Series::resample`]: the regular series and what was done to get it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resampled {
    /// The series on the regular grid.
    pub series: Series,
    /// Grid slots that had no point and were filled by linear interpolation.
    pub filled: usize,
    /// Input points that shared a slot with another point and were averaged.
    pub merged: usize,
}

impl Series {
    /// Builds a series; the step must be positive and every value finite. An empty series is
    /// allowed (it is how "no data" travels); models refuse it with [`ForecastError::NoData`].
    pub fn new(start: i64, step_seconds: i64, values: Vec<f64>) -> Result<Self> {
        if step_seconds <= 0 {
            return Err(ForecastError::InvalidInput(format!(
                "step must be positive, got {step_seconds}"
            )));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(ForecastError::InvalidInput(format!("value {i} is not finite")));
        }
        Ok(Self {
            start,
            step_seconds,
            values,
        })
    }

    /// Unix time of the first value.
    pub fn start(&self) -> i64 {
        self.start
    }

    /// Seconds between two values.
    pub fn step_seconds(&self) -> i64 {
        self.step_seconds
    }

    /// The values, oldest first.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the series holds no value.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The most recent value.
    pub fn last(&self) -> Option<f64> {
        self.values.last().copied()
    }

    /// Unix time of value `i` (also valid past the end, for forecast steps).
    pub fn timestamp(&self, i: usize) -> i64 {
        self.start + i as i64 * self.step_seconds
    }

    /// The first `n` values (all of them when `n` exceeds the length): what a model may see
    /// at a backtest origin `n`.
    pub fn prefix(&self, n: usize) -> Series {
        let n = n.min(self.len());
        Series {
            start: self.start,
            step_seconds: self.step_seconds,
            values: self.values[..n].to_vec(),
        }
    }

    /// The last `n` values (all of them when `n` exceeds the length), with the start moved so
    /// timestamps stay right.
    pub fn tail(&self, n: usize) -> Series {
        let skip = self.len().saturating_sub(n);
        Series {
            start: self.timestamp(skip),
            step_seconds: self.step_seconds,
            values: self.values[skip..].to_vec(),
        }
    }

    /// Puts `(unix_seconds, value)` points (any order) onto a regular grid starting at the
    /// earliest point. `step_seconds` defaults to the median gap between distinct timestamps,
    /// which is robust to the missing slots and duplicates found in real traces.
    pub fn resample(points: &[(i64, f64)], step_seconds: Option<i64>) -> Result<Resampled> {
        let mut points = points.to_vec();
        if points.iter().any(|(_, v)| !v.is_finite()) {
            return Err(ForecastError::InvalidInput("non-finite value".into()));
        }
        points.sort_by_key(|p| p.0);
        let (Some(first), Some(last)) = (points.first(), points.last()) else {
            return Err(ForecastError::NoData);
        };
        let (t0, t1) = (first.0, last.0);
        let step = match step_seconds {
            Some(s) => s,
            None => crate::trace::median_step(&points).unwrap_or(60),
        };
        if step <= 0 {
            return Err(ForecastError::InvalidInput("step must be positive".into()));
        }
        let slots = usize::try_from((t1 - t0 + step / 2) / step + 1)
            .map_err(|_| ForecastError::InvalidInput("timestamps out of range".into()))?;
        let mut sum = vec![0.0; slots];
        let mut count = vec![0usize; slots];
        for &(t, v) in &points {
            // Nearest slot: a point 2 minutes late on a 5-minute grid stays in its own slot.
            let k = (((t - t0) + step / 2) / step) as usize;
            let k = k.min(slots - 1);
            sum[k] += v;
            count[k] += 1;
        }
        let merged = count.iter().map(|c| c.saturating_sub(1)).sum();
        let mut values: Vec<Option<f64>> = sum
            .iter()
            .zip(&count)
            .map(|(s, &c)| (c > 0).then(|| s / c as f64))
            .collect();
        let filled = interpolate_gaps(&mut values);
        let values = values.into_iter().map(|v| v.unwrap_or(0.0)).collect();
        Ok(Resampled {
            series: Series::new(t0, step, values)?,
            filled,
            merged,
        })
    }
}

/// Fills `None` slots by linear interpolation between the nearest known neighbours; returns
/// how many were filled. The first and last slots are always known (they hold the extreme
/// timestamps), so there is never an edge to extrapolate.
fn interpolate_gaps(values: &mut [Option<f64>]) -> usize {
    let mut filled = 0;
    let mut prev: Option<(usize, f64)> = None;
    for i in 0..values.len() {
        if let Some(v) = values[i] {
            if let Some((j, pv)) = prev
                && i > j + 1
            {
                for (k, slot) in values.iter_mut().enumerate().take(i).skip(j + 1) {
                    let w = (k - j) as f64 / (i - j) as f64;
                    *slot = Some(pv + w * (v - pv));
                    filled += 1;
                }
            }
            prev = Some((i, v));
        }
    }
    filled
}

/// Reads a CSV trace and resamples it onto its median step (see the module docs).
pub fn load_csv(path: &Path) -> Result<Resampled> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ForecastError::Io {
        path: name.clone(),
        source,
    })?;
    Series::resample(&crate::trace::parse_csv(&text, &name)?, None)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn resample_averages_duplicates_and_interpolates_gaps() {
        // Arrange: step 60, a duplicate at t=60 and a missing slot at t=120 and t=180
        let points = [(0, 1.0), (60, 2.0), (60, 4.0), (240, 9.0), (300, 10.0)];
        // Act
        let r = Series::resample(&points, None).unwrap();
        // Assert
        assert_eq!(r.series.step_seconds(), 60);
        assert_eq!(r.series.values(), &[1.0, 3.0, 5.0, 7.0, 9.0, 10.0]);
        assert_eq!((r.filled, r.merged), (2, 1));
    }

    #[test]
    fn resample_of_nothing_is_no_data() {
        assert!(matches!(Series::resample(&[], None), Err(ForecastError::NoData)));
    }

    #[test]
    fn tail_and_prefix_keep_timestamps() {
        let s = Series::new(100, 10, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(s.tail(2).start(), 120);
        assert_eq!(s.tail(2).values(), &[3.0, 4.0]);
        assert_eq!(s.prefix(3).values(), &[1.0, 2.0, 3.0]);
        assert!(Series::new(0, 0, vec![]).is_err());
        assert!(Series::new(0, 1, vec![f64::NAN]).is_err());
    }
}
