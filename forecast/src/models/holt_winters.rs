//! Additive Holt-Winters (ETS(A,Ad,A)) with the season the series itself shows: the period
//! comes from [`super::period::detect`] on the training window, not from a fixed day, so a
//! 12-hour or hourly cycle is modelled as well as a daily one. Without a detected period the
//! model is damped Holt on the level, which is what a seasonal model should reduce to on a
//! series that has no cycle.
//!
//! Parameters come from a fixed grid on the one-step squared error, like the smoothing of the
//! `seasonal` model: a few dozen O(n) passes cost about a millisecond and cannot fail to
//! converge, which the backtest (a refit per origin) needs.

use super::Model;
use super::period::detect;
use super::smoothing::fit_damped_holt;
use crate::{ForecastError, Result, Series};

/// Level smoothing weights tried.
const ALPHAS: [f64; 6] = [0.05, 0.1, 0.2, 0.4, 0.7, 1.0];
/// Seasonal smoothing weights tried (as a share of `1 - alpha`).
const GAMMAS: [f64; 3] = [0.01, 0.05, 0.2];
/// (trend weight, damping) pairs tried; beta = 0 means no trend.
const TRENDS: [(f64, f64); 3] = [(0.0, 1.0), (0.02, 0.9), (0.1, 0.98)];
/// Points below which nothing is fitted.
const MIN_POINTS: usize = 10;

/// Holt-Winters with a detected season. See the module docs.
#[derive(Debug, Clone, Copy)]
pub struct HoltWinters {
    /// Most recent points trained on; a longer period gets three cycles instead.
    pub max_train: usize,
}

impl Default for HoltWinters {
    fn default() -> Self {
        // Five days at five-minute steps; a one-minute daily cycle needs more and gets
        // three cycles.
        Self { max_train: 1_440 }
    }
}

/// Final state of one parameter set.
#[derive(Debug, Clone)]
struct State {
    level: f64,
    trend: f64,
    phi: f64,
    season: Vec<f64>,
    /// Phase of the next step after the window.
    next_phase: usize,
}

impl State {
    fn forecast(&self, horizon_steps: usize) -> Vec<f64> {
        let p = self.season.len();
        let (mut damp, mut pow) = (0.0, 1.0);
        (0..horizon_steps)
            .map(|h| {
                pow *= self.phi;
                damp += pow;
                self.level + damp * self.trend + self.season[(self.next_phase + h) % p]
            })
            .collect()
    }
}

/// Runs one parameter set over `y` with period `p`; returns the final state and the one-step
/// SSE after the first cycle (which only measures the initial state).
fn run(y: &[f64], p: usize, init: &[f64], alpha: f64, gamma: f64, beta: f64, phi: f64) -> (State, f64) {
    let mut season = init.to_vec();
    let mut level = y[..p].iter().sum::<f64>() / p as f64;
    let mut trend = 0.0;
    let mut sse = 0.0;
    let g = gamma * (1.0 - alpha);
    for (i, &v) in y.iter().enumerate() {
        let k = i % p;
        let fc = level + phi * trend + season[k];
        let e = v - fc;
        if i >= p {
            sse += e * e;
        }
        level = level + phi * trend + alpha * e;
        trend = phi * trend + alpha * beta * e;
        season[k] += g * e;
    }
    let state = State {
        level,
        trend,
        phi,
        season,
        next_phase: y.len() % p,
    };
    (state, sse)
}

/// Initial seasonal offsets: per-phase means of the first cycles minus their overall mean.
fn initial_season(y: &[f64], p: usize) -> Vec<f64> {
    let cycles = (y.len() / p).clamp(1, 3);
    let mut s = vec![0.0; p];
    for c in 0..cycles {
        let cycle = &y[c * p..(c + 1) * p];
        let mean = cycle.iter().sum::<f64>() / p as f64;
        for (o, v) in s.iter_mut().zip(cycle) {
            *o += (v - mean) / cycles as f64;
        }
    }
    s
}

impl HoltWinters {
    /// The training window without a period: the last `max_train` points.
    fn window<'a>(&self, values: &'a [f64]) -> &'a [f64] {
        &values[values.len().saturating_sub(self.max_train)..]
    }

    /// Fits on `y` with period `p` and returns the best grid state. The grid is searched
    /// coordinate-wise (level and trend weights at a middle seasonal weight, then the
    /// seasonal weight): 20 passes instead of the full 54, which the training budget needs
    /// and which found the same parameters as the full grid on the traces' daily cycles.
    fn fit_seasonal(y: &[f64], p: usize) -> Option<State> {
        let init = initial_season(y, p);
        let mut best: Option<(State, f64, f64, f64, f64)> = None;
        let consider = |alpha: f64, gamma: f64, beta: f64, phi: f64, best: &mut Option<(State, f64, f64, f64, f64)>| {
            let (state, sse) = run(y, p, &init, alpha, gamma, beta, phi);
            if sse.is_finite() && best.as_ref().is_none_or(|b| sse < b.1) {
                *best = Some((state, sse, alpha, beta, phi));
            }
        };
        for &alpha in &ALPHAS {
            for &(beta, phi) in &TRENDS {
                consider(alpha, GAMMAS[1], beta, phi, &mut best);
            }
        }
        let (alpha, beta, phi) = best.as_ref().map(|b| (b.2, b.3, b.4))?;
        for gamma in [GAMMAS[0], GAMMAS[2]] {
            consider(alpha, gamma, beta, phi, &mut best);
        }
        best.map(|b| b.0)
    }
}

impl Model for HoltWinters {
    fn name(&self) -> &'static str {
        "holt_winters"
    }

    fn fit_predict(&self, history: &Series, horizon_steps: usize) -> Result<Vec<f64>> {
        let values = history.values();
        if values.len() < MIN_POINTS {
            return Err(ForecastError::NotEnoughHistory {
                needed: MIN_POINTS,
                got: values.len(),
            });
        }
        // Search the period on up to three days of one-minute data (three cycles of the
        // longest period searched), then train on three cycles of it.
        let search = &values[values.len().saturating_sub(self.max_train.max(4_320))..];
        let period = detect(search, history.step_seconds()).map(|p| p.steps);
        let y = match period {
            Some(p) => &values[values.len().saturating_sub(self.max_train.max(3 * p))..],
            None => self.window(values),
        };
        if let Some(p) = period.filter(|p| y.len() >= 2 * p) {
            let state =
                Self::fit_seasonal(y, p).ok_or_else(|| ForecastError::Fit("no finite Holt-Winters fit".into()))?;
            return Ok(state.forecast(horizon_steps));
        }
        let holt = fit_damped_holt(y).ok_or_else(|| ForecastError::Fit("no finite smoothing fit".into()))?;
        Ok(holt.forecast(horizon_steps))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::models::LastValue;
    use crate::testdata::{Rng, mae};

    #[test]
    fn beats_last_value_on_a_twelve_hour_cycle() {
        // Arrange: 5 days at 5-minute steps of a 12-hour cycle plus noise; forecast 2 hours
        let mut rng = Rng::new(4);
        let values: Vec<f64> = (0..5 * 288)
            .map(|i| 30.0 + 8.0 * (i as f64 / 144.0 * std::f64::consts::TAU).sin() + 0.5 * rng.normal())
            .collect();
        let full = Series::new(1_700_000_000, 300, values).unwrap();
        let h = 24;
        let history = full.prefix(full.len() - h);
        let actual = &full.values()[full.len() - h..];
        // Act
        let hw = HoltWinters::default().fit_predict(&history, h).unwrap();
        let last = LastValue.fit_predict(&history, h).unwrap();
        // Assert
        let (e_hw, e_last) = (mae(&hw, actual), mae(&last, actual));
        assert!(
            e_hw < 1.0 && e_hw < e_last / 3.0,
            "holt_winters {e_hw}, last value {e_last}"
        );
    }

    #[test]
    fn without_a_cycle_it_is_a_smoothed_level() {
        let mut rng = Rng::new(8);
        let values = (0..1000).map(|_| 5.0 + rng.normal()).collect();
        let s = Series::new(0, 300, values).unwrap();
        let path = HoltWinters::default().fit_predict(&s, 6).unwrap();
        assert!(path.iter().all(|v| (v - 5.0).abs() < 0.6), "{path:?}");
    }
}
