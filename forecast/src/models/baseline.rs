//! The two baselines every forecaster must beat: last value, and seasonal naive (the value
//! at the same time one day earlier). They also define the MASE scale and the fallback.

use super::{Model, steps_per};
use crate::{ForecastError, Result, Series};

/// Repeats the most recent value over the whole horizon.
#[derive(Debug, Clone, Copy, Default)]
pub struct LastValue;

impl Model for LastValue {
    fn name(&self) -> &'static str {
        "last_value"
    }

    fn fit_predict(&self, history: &Series, horizon_steps: usize) -> Result<Vec<f64>> {
        let last = history.last().ok_or(ForecastError::NoData)?;
        Ok(vec![last; horizon_steps])
    }
}

/// Forecasts each step with the value one day before it. It refuses to run without a full
/// day of history instead of guessing the missing part.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeasonalNaive;

impl Model for SeasonalNaive {
    fn name(&self) -> &'static str {
        "seasonal_naive"
    }

    fn fit_predict(&self, history: &Series, horizon_steps: usize) -> Result<Vec<f64>> {
        let n = history.len();
        let period = steps_per(86_400, history.step_seconds())
            .ok_or_else(|| ForecastError::InvalidInput("step too coarse for a daily cycle".into()))?;
        if n < period {
            return Err(ForecastError::NotEnoughHistory { needed: period, got: n });
        }
        let values = history.values();
        Ok((0..horizon_steps)
            .map(|h| {
                // Step h lands at index n + h; go back whole days until inside the history
                // (only needed when the horizon exceeds a day).
                let back = period * (h / period + 1);
                values[n + h - back]
            })
            .collect())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn last_value_repeats_the_last_point() {
        let s = Series::new(0, 60, vec![1.0, 2.0, 7.0]).unwrap();
        assert_eq!(LastValue.fit_predict(&s, 3).unwrap(), vec![7.0; 3]);
    }

    #[test]
    fn seasonal_naive_copies_yesterday_and_needs_a_day() {
        // Arrange: hourly steps, two days where value = hour of day + 100 * day
        let values: Vec<f64> = (0..48).map(|i| (i % 24) as f64 + 100.0 * (i / 24) as f64).collect();
        let s = Series::new(0, 3600, values).unwrap();
        // Act
        let path = SeasonalNaive.fit_predict(&s, 3).unwrap();
        // Assert: same hours of day 2 (index 24..27), not of day 1
        assert_eq!(path, vec![100.0, 101.0, 102.0]);
        let short = s.prefix(23);
        assert!(matches!(
            SeasonalNaive.fit_predict(&short, 3),
            Err(ForecastError::NotEnoughHistory { needed: 24, got: 23 })
        ));
    }

    #[test]
    fn seasonal_naive_handles_horizons_longer_than_a_day() {
        let s = Series::new(0, 3600, (0..24).map(f64::from).collect()).unwrap();
        let path = SeasonalNaive.fit_predict(&s, 30).unwrap();
        assert_eq!(path[0], 0.0);
        assert_eq!(path[25], 1.0);
    }
}
