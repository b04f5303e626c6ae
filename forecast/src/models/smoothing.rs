//! Damped-trend exponential smoothing (ETS(A,Ad,N), Holt's linear method with a damped
//! trend), fitted by a small grid search on the one-step squared error.
//!
//! A fixed grid instead of a numeric optimiser: 45 passes over at most a few thousand
//! points cost well under a millisecond, never fail to converge, and include simple
//! exponential smoothing (beta = 0) and the random walk (alpha = 1) as special cases, so
//! the seasonal model can only fall back to, not below, those behaviours in-sample.

/// Level smoothing weights tried.
const ALPHAS: [f64; 9] = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0];
/// (trend weight, damping) pairs tried; beta = 0 means no trend.
const TRENDS: [(f64, f64); 5] = [(0.0, 1.0), (0.02, 0.9), (0.02, 0.98), (0.1, 0.9), (0.1, 0.98)];

/// Final state of a fitted damped Holt model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct HoltFit {
    pub(crate) level: f64,
    pub(crate) trend: f64,
    pub(crate) phi: f64,
    pub(crate) alpha: f64,
}

impl HoltFit {
    /// Forecast `h` steps ahead: level plus the damped sum of the trend.
    pub(crate) fn forecast(&self, horizon_steps: usize) -> Vec<f64> {
        let mut damp = 0.0;
        let mut pow = 1.0;
        (0..horizon_steps)
            .map(|_| {
                pow *= self.phi;
                damp += pow;
                self.level + damp * self.trend
            })
            .collect()
    }
}

/// Runs one parameter set over `y`; returns the final state and the one-step SSE after a
/// short burn-in (the first errors mostly measure the crude initial state).
fn run(y: &[f64], alpha: f64, beta: f64, phi: f64, burn: usize) -> (HoltFit, f64) {
    let mut level = y[0];
    let mut trend = 0.0;
    let mut sse = 0.0;
    for (i, &v) in y.iter().enumerate().skip(1) {
        let fc = level + phi * trend;
        let e = v - fc;
        if i >= burn {
            sse += e * e;
        }
        level = fc + alpha * e;
        trend = phi * trend + alpha * beta * e;
    }
    (
        HoltFit {
            level,
            trend,
            phi,
            alpha,
        },
        sse,
    )
}

/// Fits the grid on a non-empty slice and keeps the lowest one-step SSE.
pub(crate) fn fit_damped_holt(y: &[f64]) -> Option<HoltFit> {
    if y.is_empty() {
        return None;
    }
    let burn = (y.len() / 4).min(10);
    let mut best: Option<(HoltFit, f64)> = None;
    for &alpha in &ALPHAS {
        for &(beta, phi) in &TRENDS {
            let (fit, sse) = run(y, alpha, beta, phi, burn);
            if sse.is_finite() && best.as_ref().is_none_or(|(_, b)| sse < *b) {
                best = Some((fit, sse));
            }
        }
    }
    best.map(|(fit, _)| fit)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::testdata::Rng;

    #[test]
    fn noisy_level_is_smoothed_not_chased() {
        // Arrange: constant 10 plus unit noise; a random walk (alpha = 1) would chase it
        let mut rng = Rng::new(7);
        let y: Vec<f64> = (0..2000).map(|_| 10.0 + rng.normal()).collect();
        // Act
        let fit = fit_damped_holt(&y).unwrap();
        // Assert
        assert!(fit.alpha <= 0.1, "alpha {}", fit.alpha);
        assert!((fit.forecast(1)[0] - 10.0).abs() < 0.5);
    }

    #[test]
    fn linear_trend_is_followed() {
        let y: Vec<f64> = (0..500).map(|i| 2.0 * f64::from(i)).collect();
        let fit = fit_damped_holt(&y).unwrap();
        let path = fit.forecast(5);
        // Truth: 1000, 1002, ...; damping may lag a little, a flat forecast would be off by 2..10
        assert!((path[0] - 1000.0).abs() < 1.0, "{path:?}");
        assert!(path[4] > path[0] + 5.0, "{path:?}");
    }
}
