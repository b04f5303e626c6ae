//! Synthetic series for the unit tests: a small deterministic PRNG (so a failing test fails the
//! same way every run) and generators for noise, trend and daily cycles.

#![allow(clippy::expect_used)]

use super::Series;

/// xorshift64* with Box-Muller: enough for test noise, no dependency needed.
/// A seeded generator.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is taken as 1).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal.
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// `level + slope * i + amplitude * sin(2 pi t / 1 day) + sigma * noise`, starting at midnight.
pub fn daily_sine(step: i64, n: usize, level: f64, slope: f64, amplitude: f64, sigma: f64, seed: u64) -> Series {
    let mut rng = Rng::new(seed);
    let values = (0..n)
        .map(|i| {
            let t = i as f64 * step as f64;
            level
                + slope * i as f64
                + amplitude * (2.0 * std::f64::consts::PI * t / 86_400.0).sin()
                + sigma * rng.normal()
        })
        .collect();
    Series::new(1_700_006_400, step, values).expect("valid synthetic series")
}

/// Mean absolute difference between a forecast and the truth.
pub fn mae(forecast: &[f64], actual: &[f64]) -> f64 {
    forecast.iter().zip(actual).map(|(f, a)| (f - a).abs()).sum::<f64>() / forecast.len() as f64
}
