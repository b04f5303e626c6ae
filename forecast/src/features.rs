//! The original design's regression features: time index, hour of day, minute of hour,
//! rolling mean and standard deviation, and lags.
//!
//! Every feature of the row for time `t` is computed from values strictly before `t` (plus
//! `t`'s own timestamp), so the same function serves training and recursive forecasting and
//! cannot leak the target. Hour and minute enter as sine/cosine pairs: a linear model cannot
//! use a raw hour of day (23 and 0 are neighbours, not opposite ends of a line).

use std::f64::consts::TAU;

/// Feature settings; [`FeatureConfig::for_step`] picks them from the series step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureConfig {
    /// Number of lag features (`y[t-1] .. y[t-lags]`).
    pub lags: usize,
    /// Window of the rolling mean and standard deviation, in steps.
    pub rolling_window: usize,
}

impl FeatureConfig {
    /// About one hour of rolling window (between 3 and 60 steps) and three lags.
    pub fn for_step(step_seconds: i64) -> Self {
        let per_hour = (3600 / step_seconds.max(1)) as usize;
        Self {
            lags: 3,
            rolling_window: per_hour.clamp(3, 60),
        }
    }

    /// Values needed before the first row can be built.
    pub fn warmup(&self) -> usize {
        self.lags.max(self.rolling_window)
    }

    /// Length of a feature row.
    pub fn width(&self) -> usize {
        FIXED_FEATURES + self.lags
    }
}

/// Features that do not depend on the number of lags: time index, hour sin/cos,
/// minute sin/cos, rolling mean, rolling std.
const FIXED_FEATURES: usize = 7;

/// Hour of day in `[0, 24)` of a Unix timestamp (fractional: 14:30 is 14.5).
pub fn hour_of_day(unix_seconds: i64) -> f64 {
    unix_seconds.rem_euclid(86_400) as f64 / 3600.0
}

/// Minute of hour in `[0, 60)` of a Unix timestamp (fractional: seconds count).
pub fn minute_of_hour(unix_seconds: i64) -> f64 {
    unix_seconds.rem_euclid(3600) as f64 / 60.0
}

/// Mean and population standard deviation of a non-empty slice.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Appends the feature row for a target at `unix_seconds` to `out`. `past` holds the values
/// before the target, most recent last, and must have at least `cfg.warmup()` of them;
/// `time_index` is the caller's scaled position of the target (it is not derived from `past`
/// so that training and forecasting share one scale).
pub fn push_row(past: &[f64], unix_seconds: i64, time_index: f64, cfg: &FeatureConfig, out: &mut Vec<f64>) {
    let hour = hour_of_day(unix_seconds) / 24.0 * TAU;
    let minute = minute_of_hour(unix_seconds) / 60.0 * TAU;
    let window = &past[past.len().saturating_sub(cfg.rolling_window)..];
    let (mean, std) = mean_std(window);
    out.extend_from_slice(&[
        time_index,
        hour.sin(),
        hour.cos(),
        minute.sin(),
        minute.cos(),
        mean,
        std,
    ]);
    out.extend((1..=cfg.lags).map(|k| past[past.len().saturating_sub(k)]));
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn calendar_features_follow_the_clock() {
        // 2023-11-15 14:30:00 UTC
        let ts = 1_700_006_400 + 14 * 3600 + 30 * 60;
        assert_eq!(hour_of_day(ts), 14.5);
        assert_eq!(minute_of_hour(ts), 30.0);
        assert_eq!(minute_of_hour(ts + 45), 30.75);
    }

    #[test]
    fn row_uses_only_the_past_and_has_the_documented_layout() {
        // Arrange: window 3, lags 2
        let cfg = FeatureConfig {
            lags: 2,
            rolling_window: 3,
        };
        let past = [100.0, 1.0, 2.0, 3.0];
        let mut row = Vec::new();
        // Act: target at midnight
        push_row(&past, 1_700_006_400, 0.5, &cfg, &mut row);
        // Assert
        assert_eq!(row.len(), cfg.width());
        assert_eq!(row[0], 0.5);
        assert!((row[1] - 0.0).abs() < 1e-12 && (row[2] - 1.0).abs() < 1e-12);
        assert!((row[5] - 2.0).abs() < 1e-12, "rolling mean of 1,2,3");
        assert!((row[6] - (2.0f64 / 3.0).sqrt()).abs() < 1e-12, "rolling std");
        assert_eq!(&row[7..], &[3.0, 2.0], "lag 1 then lag 2");
    }

    #[test]
    fn config_scales_with_step() {
        assert_eq!(FeatureConfig::for_step(60).rolling_window, 60);
        assert_eq!(FeatureConfig::for_step(300).rolling_window, 12);
        assert_eq!(FeatureConfig::for_step(3600).rolling_window, 3);
        assert_eq!(FeatureConfig::for_step(300).warmup(), 12);
    }
}
