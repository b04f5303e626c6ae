//! Seasonal period detection: candidate periods from augurs' Welch periodogram, each turned
//! into an exact lag and kept only when a seasonal profile at that lag explains a real share
//! of the detrended variance.
//!
//! Why not take the periodogram's answer as it is: a Welch periodogram with segments of
//! `2 * max_period` points resolves periods only as `segment / k`, so a daily cycle of 288
//! five-minute steps shows up as 256 or 341, which is useless for a seasonal model that
//! indexes by phase. Its peaks are also relative to the largest one, so white noise always
//! "has" a period. A long peak is therefore snapped to the calendar period (hour, 12 hours,
//! day, week) inside its bin, or dropped: on the traces, long non-calendar "periods" (504
//! hours, 831..886 five-minute steps) were spurious and made Holt-Winters three times worse
//! than last value, and the autocorrelation maximum drifted by a step or two around a true
//! daily cycle (287, 289, 1432). A short peak (up to [`MAX_FREE_PERIOD`] steps, many cycles
//! in the window) is refined to the lag of highest autocorrelation instead. The strength
//! test then rejects periods that noise explains.

use augurs::seasons::PeriodogramDetector;

/// Shortest period considered, in steps: shorter "cycles" are what the lags of the linear
/// model already capture.
const MIN_PERIOD: usize = 4;
/// Longest period considered, in steps (one day at one-minute steps).
const MAX_PERIOD: usize = 1_440;
/// Full cycles the window must hold: fewer cannot tell a cycle from a trend.
const MIN_CYCLES: usize = 3;
/// Periodogram peaks examined (the strongest first).
const MAX_CANDIDATES: usize = 3;
/// Longest period taken at the lag the data prefer rather than snapped to the calendar.
const MAX_FREE_PERIOD: usize = 64;
/// Calendar periods, in seconds, that a long periodogram peak may stand for.
const CALENDAR: [i64; 4] = [3_600, 43_200, 86_400, 7 * 86_400];
/// Seasonal strength a period needs to be kept: the share of the detrended variance that the
/// per-phase means explain, beyond what noise alone would put into them.
pub(crate) const MIN_STRENGTH: f64 = 0.2;

/// A detected period and its strength in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Period {
    /// Length in steps.
    pub(crate) steps: usize,
    /// Share of detrended variance explained by the seasonal profile, net of noise.
    pub(crate) strength: f64,
}

/// The strongest seasonal period of `values` (a series with `step_seconds` between points)
/// that passes the strength test, if any.
pub(crate) fn detect(values: &[f64], step_seconds: i64) -> Option<Period> {
    let n = values.len();
    let max_period = MAX_PERIOD.min(n / MIN_CYCLES);
    if max_period <= MIN_PERIOD {
        return None;
    }
    let detector = PeriodogramDetector::builder()
        .min_period(MIN_PERIOD as u32)
        .max_period(max_period as u32 + 1)
        .threshold(0.05)
        .build();
    let peaks: Vec<_> = detector.periodogram(values).peaks(0.05).collect();
    // Calendar periods are always tried: the periodogram's bins are coarse at long periods and
    // its strongest peaks on real traces are often low-frequency drift that hides the day.
    let mut best: Option<Period> = None;
    for steps in CALENDAR.iter().filter_map(|c| super::steps_per(*c, step_seconds)) {
        if steps < MIN_PERIOD || steps > max_period {
            continue;
        }
        let strength = strength(values, steps);
        if strength >= MIN_STRENGTH && best.is_none_or(|b| strength > b.strength) {
            best = Some(Period { steps, strength });
        }
    }
    // `peaks` is sorted by ascending power: the strongest come last.
    for peak in peaks.iter().rev().take(MAX_CANDIDATES) {
        // Neighbouring bins bound where the true period can be; 0 marks the ends.
        let hi = if peak.prev_period == 0 {
            max_period
        } else {
            (peak.prev_period as usize).min(max_period)
        };
        let lo = (peak.next_period as usize).max(MIN_PERIOD);
        let hi = hi.max(lo);
        // A little slack around the bin: the true period may sit on its edge.
        let mut steps: Vec<usize> = CALENDAR
            .iter()
            .filter_map(|c| super::steps_per(*c, step_seconds))
            .filter(|p| *p * 20 >= lo * 19 && *p * 20 <= hi * 21 && *p >= MIN_PERIOD && *p <= max_period)
            .collect();
        if steps.is_empty() && hi <= MAX_FREE_PERIOD {
            steps.extend(refine(values, lo, hi));
        }
        for steps in steps {
            let strength = strength(values, steps);
            if strength >= MIN_STRENGTH && best.is_none_or(|b| strength > b.strength) {
                best = Some(Period { steps, strength });
            }
        }
    }
    best
}

/// Lag in `lo..=hi` with the highest autocorrelation of the detrended series.
fn refine(values: &[f64], lo: usize, hi: usize) -> Option<usize> {
    let d = detrend(values, hi.max(2));
    let n = d.len();
    let var: f64 = d.iter().map(|v| v * v).sum();
    if var <= 0.0 {
        return None;
    }
    (lo..=hi.min(n.saturating_sub(1)))
        .map(|lag| {
            let c: f64 = d[lag..].iter().zip(&d[..n - lag]).map(|(a, b)| a * b).sum();
            (lag, c / var)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(lag, _)| lag)
}

/// `values` minus a centred moving average of `window` points, over the
/// positions where the full window exists.
fn detrend(values: &[f64], window: usize) -> Vec<f64> {
    let n = values.len();
    if n <= window {
        let mean = values.iter().sum::<f64>() / n.max(1) as f64;
        return values.iter().map(|v| v - mean).collect();
    }
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    for v in values {
        prefix.push(prefix[prefix.len() - 1] + v);
    }
    let (before, after) = (window / 2, window - window / 2);
    (before..n + 1 - after)
        .map(|i| values[i] - (prefix[i + after] - prefix[i - before]) / window as f64)
        .collect()
}

/// Seasonal strength of period `p`: 1 - var(remainder) / var(detrended), where the
/// remainder is the detrended series minus its per-phase means, with the share noise would
/// explain subtracted (each phase mean of k cycles keeps 1/k of the noise variance).
pub(crate) fn strength(values: &[f64], p: usize) -> f64 {
    if p < 2 || values.len() < MIN_CYCLES * p {
        return 0.0;
    }
    let d = detrend(values, p);
    let n = d.len();
    let mut sums = vec![0.0; p];
    let mut counts = vec![0usize; p];
    for (i, v) in d.iter().enumerate() {
        sums[i % p] += v;
        counts[i % p] += 1;
    }
    let means: Vec<f64> = sums.iter().zip(&counts).map(|(s, &c)| s / c.max(1) as f64).collect();
    let total: f64 = d.iter().map(|v| v * v).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let resid: f64 = d.iter().enumerate().map(|(i, v)| (v - means[i % p]).powi(2)).sum();
    let cycles = n as f64 / p as f64;
    let explained = 1.0 - resid / total;
    // Noise alone explains about 1/cycles of the variance through the phase means.
    ((explained - 1.0 / cycles) / (1.0 - 1.0 / cycles)).clamp(0.0, 1.0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::testdata::Rng;

    fn sine(n: usize, period: f64, amplitude: f64, noise: f64, seed: u64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|i| 20.0 + amplitude * (i as f64 / period * std::f64::consts::TAU).sin() + noise * rng.normal())
            .collect()
    }

    #[test]
    fn finds_a_twelve_hour_period_exactly() {
        // Arrange: 5-minute steps, a 12-hour cycle (144 steps), 5 days, moderate noise
        let y = sine(5 * 288, 144.0, 5.0, 1.0, 1);
        // Act
        let p = detect(&y, 300).unwrap();
        // Assert: the exact lag, not the periodogram bin next to it
        assert_eq!(p.steps, 144, "{p:?}");
        assert!(p.strength > 0.5, "{p:?}");
    }

    #[test]
    fn finds_a_daily_period_with_a_trend() {
        let y: Vec<f64> = sine(4 * 288, 288.0, 5.0, 1.0, 2)
            .into_iter()
            .enumerate()
            .map(|(i, v)| v + 0.01 * i as f64)
            .collect();
        assert_eq!(detect(&y, 300).map(|p| p.steps), Some(288));
        // The same cycle at one-minute steps is a 1,440-step day.
        let y: Vec<f64> = sine(4 * 1440, 1440.0, 5.0, 1.0, 3);
        assert_eq!(detect(&y, 60).map(|p| p.steps), Some(1440));
    }

    #[test]
    fn white_noise_and_random_walk_have_no_period() {
        let mut rng = Rng::new(5);
        let noise: Vec<f64> = (0..2000).map(|_| rng.normal()).collect();
        assert_eq!(detect(&noise, 300), None);
        let mut level = 0.0;
        let walk: Vec<f64> = (0..2000)
            .map(|_| {
                level += rng.normal();
                level
            })
            .collect();
        assert_eq!(detect(&walk, 300), None);
    }
}
