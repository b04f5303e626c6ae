//! Prediction intervals from measured errors: per horizon step, the empirical quantiles of
//! the backtest errors (actual minus forecast) are added to the point forecast. Nothing
//! assumes a distribution, so the coverage the backtest reports is the coverage one gets.
//!
//! Quantiles use the split-conformal rank `ceil((n + 1) q)`: with `n` exchangeable errors the
//! interval covers a new one with probability at least the nominal level, where the plain
//! empirical quantile of a small sample (the backtest has tens of origins) under-covers.

/// Lower and upper error offsets for each horizon step.
pub type ErrorBands = Vec<(f64, f64)>;

/// Per-step `(lower, upper)` error quantiles for a two-sided interval at `level` (e.g. 0.9)
/// from `errors[origin][step]`. `None` without errors. Every row must hold the same number
/// of steps.
pub fn error_bands(errors: &[Vec<f64>], level: f64) -> Option<ErrorBands> {
    let steps = errors.first()?.len();
    let mut column = Vec::with_capacity(errors.len());
    let bands = (0..steps)
        .map(|h| {
            column.clear();
            column.extend(errors.iter().filter_map(|row| row.get(h).copied()));
            column.sort_by(f64::total_cmp);
            conformal_band(&column, level)
        })
        .collect();
    Some(bands)
}

/// `(lower, upper)` of a sorted, non-empty sample.
fn conformal_band(sorted: &[f64], level: f64) -> (f64, f64) {
    let n = sorted.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let tail = (1.0 - level.clamp(0.0, 1.0)) / 2.0;
    // The epsilon keeps 0.05 * 200 (stored as 9.999...) at rank 10.
    let rank_hi = ((n + 1) as f64 * (1.0 - tail) - 1e-9).ceil() as usize;
    let rank_lo = ((n + 1) as f64 * tail + 1e-9).floor() as usize;
    let hi = sorted[rank_hi.clamp(1, n) - 1];
    let lo = sorted[rank_lo.clamp(1, n) - 1];
    (lo, hi)
}

/// Adds bands to a path; steps past the end of `bands` reuse its last band.
pub fn apply(path: &[f64], bands: &[(f64, f64)]) -> (Vec<f64>, Vec<f64>) {
    path.iter()
        .enumerate()
        .map(|(h, p)| {
            let (lo, hi) = bands.get(h).or(bands.last()).copied().unwrap_or((0.0, 0.0));
            (p + lo, p + hi)
        })
        .unzip()
}

/// Errors a last-value forecast would have made in `values` (`y[t + h] - y[t]` for each
/// step `h`), from the most recent `max_origins` origins: the measured width of the fallback
/// forecast when no backtest could run.
pub fn naive_errors(values: &[f64], horizon_steps: usize, max_origins: usize) -> Vec<Vec<f64>> {
    let n = values.len();
    if n <= horizon_steps {
        return Vec::new();
    }
    let last_origin = n - horizon_steps;
    (last_origin.saturating_sub(max_origins).max(1)..=last_origin)
        .map(|o| (0..horizon_steps).map(|h| values[o + h] - values[o - 1]).collect())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn bands_use_conformal_ranks_per_step() {
        // Arrange: 19 errors 1..=19 at step 0, ten times that at step 1
        let errors: Vec<Vec<f64>> = (1..=19).map(|i| vec![f64::from(i), 10.0 * f64::from(i)]).collect();
        // Act
        let bands = error_bands(&errors, 0.9).unwrap();
        // Assert: with 19 samples a 90% interval spans min..max
        assert_eq!(bands, vec![(1.0, 19.0), (10.0, 190.0)]);
        let (lower, upper) = apply(&[100.0, 100.0, 100.0], &bands);
        assert_eq!(lower, vec![101.0, 110.0, 110.0]);
        assert_eq!(upper, vec![119.0, 290.0, 290.0]);
    }

    #[test]
    fn bands_narrow_inside_the_sample_with_many_errors() {
        let errors: Vec<Vec<f64>> = (1..=199).map(|i| vec![f64::from(i)]).collect();
        let bands = error_bands(&errors, 0.9).unwrap();
        assert_eq!(bands, vec![(10.0, 190.0)]);
        assert!(error_bands(&[], 0.9).is_none());
    }

    #[test]
    fn naive_errors_are_changes_from_the_origin() {
        let e = naive_errors(&[1.0, 2.0, 4.0, 7.0], 2, 10);
        assert_eq!(e, vec![vec![1.0, 3.0], vec![2.0, 5.0]]);
        assert!(naive_errors(&[1.0, 2.0], 2, 10).is_empty());
    }
}
