//! What the HPA needs to know: the peak demand over the lead time (what a scale-up takes to
//! help), at a chosen quantile, from the freshest samples.
//!
//! Most of a reactive HPA's shortfall is observation lag plus pod start-up, a couple of
//! minutes; a forecaster working on coarse buckets throws away exactly what matters. This one
//! works at the query step (15 s) and is online: [`PeakForecaster::push`] takes one sample
//! and the forecast is ready at once, so the simulator and the service run the same code at
//! the same step.
//!
//! Each candidate makes a point forecast of the peak over the next `lead_steps` samples
//! (last value; the peak of the last `lead_steps`; last value plus the recent slope; last
//! value plus the seasonal profile's rise). Its quantile forecast adds the empirical `quantile` of its own past errors (realised
//! peak minus point forecast, divided by the recent level so that a busy hour and a quiet
//! night share one distribution): split-conformal calibration, nothing assumed. The candidate
//! served is the one with the lowest recent pinball loss at that quantile, i.e. the one that
//! buys the same coverage with the least headroom. Coverage is counted as forecasts resolve,
//! so the calibration is measured, not assumed.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

mod candidate;
mod season;

use candidate::{Candidate, Scoring};
use season::Season;

/// The candidates, simplest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PeakModel {
    /// The newest sample.
    LastValue,
    /// The largest of the last `lead_steps` samples: on a noisy level the next window's peak
    /// is most like the last window's.
    RecentPeak,
    /// The newest sample plus the rise the slope of the last `trend_steps` samples gives
    /// over the lead time (undamped: the lead is short, and a damped trend is late on ramps).
    Trend,
    /// The newest sample plus the largest rise of the seasonal profile over the lead time.
    Seasonal,
}

impl PeakModel {
    /// Every candidate, simplest first.
    pub const ALL: [PeakModel; 4] = [
        PeakModel::LastValue,
        PeakModel::RecentPeak,
        PeakModel::Trend,
        PeakModel::Seasonal,
    ];

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            PeakModel::LastValue => "last_value",
            PeakModel::RecentPeak => "recent_peak",
            PeakModel::Trend => "trend",
            PeakModel::Seasonal => "seasonal",
        }
    }
}

/// What a candidate's errors are divided by, so that one quantile fits quiet and busy times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorScale {
    /// The mean level of the last `level_steps` samples.
    Level,
    /// The mean absolute change between neighbouring samples over the same window (plus 1 %
    /// of the level): headroom grows when the series moves, not when it is merely high.
    Volatility,
}

/// Settings; the defaults are for 15-second samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeakConfig {
    /// Samples ahead over which the peak is taken: the lead time a scale-up needs.
    pub lead_steps: usize,
    /// Quantile served (0.9: the realised peak exceeds the forecast one time in ten).
    pub quantile: f64,
    /// Samples the slope is measured over (4: one minute, the rate window, so a step seen
    /// through the window is extrapolated to its full height).
    pub trend_steps: usize,
    /// Samples the level (the scale of the errors) is averaged over (240: an hour).
    pub level_steps: usize,
    /// What errors are divided by before their quantile is taken.
    pub error_scale: ErrorScale,
    /// Errors kept per candidate for calibration.
    pub calibration_samples: usize,
    /// One error is kept every this many samples (neighbours are nearly equal).
    pub sample_every: usize,
    /// Samples between two recomputations of the error quantiles.
    pub recalibrate_every: usize,
    /// Errors a candidate needs before it may serve.
    pub min_errors: usize,
    /// Half-life, in samples, of the loss average candidates are chosen by.
    pub selection_half_life: f64,
    /// Candidates to choose from.
    pub candidates: Vec<PeakModel>,
    /// Seasonal profile: samples per profile bucket (20: five minutes).
    pub bucket_steps: usize,
    /// Seasonal profile: buckets per period (288: a day of five-minute buckets); 0 disables
    /// the seasonal candidate.
    pub period_buckets: usize,
    /// Seasonal profile: periods averaged (7: a week of days).
    pub periods_kept: usize,
}

impl PeakConfig {
    /// A configuration from JSON, as the predictor's `--peak-config` and the simulator's
    /// take it; unknown fields are refused, missing ones take their defaults.
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("not a peak forecaster configuration: {e}"))
    }
}

impl Default for PeakConfig {
    fn default() -> Self {
        Self {
            lead_steps: 10,
            quantile: 0.9,
            trend_steps: 4,
            level_steps: 240,
            error_scale: ErrorScale::Volatility,
            calibration_samples: 1440,
            sample_every: 4,
            recalibrate_every: 40,
            min_errors: 30,
            selection_half_life: 2880.0,
            candidates: PeakModel::ALL.to_vec(),
            bucket_steps: 20,
            period_buckets: 288,
            periods_kept: 7,
        }
    }
}

/// The forecast served at one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeakForecast {
    /// The candidate serving.
    pub model: PeakModel,
    /// Point forecast of the peak over the lead time.
    pub point: f64,
    /// The peak at the configured quantile: what capacity should cover.
    pub peak: f64,
    /// The configured quantile.
    pub quantile: f64,
    /// Share of this candidate's resolved quantile forecasts that covered the realised peak.
    pub coverage: Option<f64>,
    /// Errors the quantile was measured from.
    pub errors: usize,
}

/// The online forecaster of one series. Feed it every sample in order.
#[derive(Debug, Clone)]
pub struct PeakForecaster {
    config: PeakConfig,
    steps: usize,
    /// The newest `max(trend_steps, level_steps) + 1` samples.
    recent: VecDeque<f64>,
    /// Sums over `recent` of the values and of the absolute changes between neighbours.
    level_sum: f64,
    change_sum: f64,
    /// Indices and values of a decreasing run: the front is the max of the last `lead_steps`.
    window_max: VecDeque<(usize, f64)>,
    candidates: Vec<Candidate>,
    season: Season,
}

impl PeakForecaster {
    /// A forecaster that has seen nothing.
    pub fn new(config: PeakConfig) -> Self {
        let candidates = config
            .candidates
            .iter()
            .filter(|m| **m != PeakModel::Seasonal || config.period_buckets > 0)
            .map(|m| Candidate::new(*m))
            .collect();
        let season = Season::new(&config);
        Self {
            config,
            steps: 0,
            recent: VecDeque::new(),
            level_sum: 0.0,
            change_sum: 0.0,
            window_max: VecDeque::new(),
            candidates,
            season,
        }
    }

    /// A forecaster that has seen `history`, oldest first.
    pub fn from_history(config: PeakConfig, history: &[f64]) -> Self {
        let mut f = Self::new(config);
        for v in history {
            f.push(*v);
        }
        f
    }

    /// The settings.
    pub fn config(&self) -> &PeakConfig {
        &self.config
    }

    /// Samples seen.
    pub fn samples(&self) -> usize {
        self.steps
    }

    /// Takes the next sample (non-finite samples are taken as a repeat of the last one, so a
    /// scrape gap does not poison the calibration).
    pub fn push(&mut self, value: f64) {
        let value = if value.is_finite() {
            value
        } else {
            self.recent.back().copied().unwrap_or(0.0)
        };
        let now = self.steps;
        self.steps += 1;
        self.remember(now, value);
        self.season.push(value);
        let lead = self.config.lead_steps.max(1);
        let realised = self.window_max.front().map_or(value, |(_, v)| *v);
        let keep_error = now.is_multiple_of(self.config.sample_every.max(1));
        let decay = 0.5f64.powf(1.0 / self.config.selection_half_life.max(1.0));
        let score = Scoring {
            quantile: self.config.quantile,
            decay,
            keep_error,
            capacity: self.config.calibration_samples.max(1),
        };
        for c in &mut self.candidates {
            if c.pending.len() >= lead {
                c.resolve(realised, &score);
            }
        }
        if now.is_multiple_of(self.config.recalibrate_every.max(1)) {
            self.recalibrate();
        }
        let scale = self.scale();
        let rises: Vec<f64> = self.candidates.iter().map(|c| self.rise(c.model, lead)).collect();
        for (c, rise) in self.candidates.iter_mut().zip(rises) {
            let point = (value + rise.max(0.0)).max(0.0);
            let peak = c.offset.map(|o| (point + o * scale).max(0.0));
            c.point = point;
            c.peak = peak;
            c.pending.push_back((point, peak, scale));
        }
    }

    /// The forecast of the candidate with the lowest recent loss, once one is calibrated.
    pub fn forecast(&self) -> Option<PeakForecast> {
        let best = self
            .candidates
            .iter()
            .filter(|c| c.peak.is_some() && c.weight > 0.0)
            .min_by(|a, b| (a.loss / a.weight).total_cmp(&(b.loss / b.weight)))?;
        Some(PeakForecast {
            model: best.model,
            point: best.point,
            peak: best.peak?,
            quantile: self.config.quantile,
            coverage: (best.resolved > 0).then(|| best.hits as f64 / best.resolved as f64),
            errors: best.errors.len(),
        })
    }

    fn remember(&mut self, now: usize, value: f64) {
        let keep = self.config.trend_steps.max(self.config.level_steps).max(1) + 1;
        if let Some(prev) = self.recent.back() {
            self.change_sum += (value - prev).abs();
        }
        self.recent.push_back(value);
        self.level_sum += value;
        while self.recent.len() > keep {
            if let Some(old) = self.recent.pop_front() {
                self.level_sum -= old;
                self.change_sum -= self.recent.front().map_or(0.0, |next| (next - old).abs());
            }
        }
        let lead = self.config.lead_steps.max(1);
        while self.window_max.back().is_some_and(|(_, v)| *v <= value) {
            self.window_max.pop_back();
        }
        self.window_max.push_back((now, value));
        while self.window_max.front().is_some_and(|(i, _)| i + lead <= now) {
            self.window_max.pop_front();
        }
    }

    /// What errors are divided by (see [`ErrorScale`]); the floor keeps a flat or near-zero
    /// series from dividing by nothing.
    fn scale(&self) -> f64 {
        let n = self.recent.len().max(1) as f64;
        let level = self.level_sum / n;
        match self.config.error_scale {
            ErrorScale::Level => level.max(1e-6),
            ErrorScale::Volatility => (self.change_sum / n + 0.01 * level).max(1e-6),
        }
    }

    fn rise(&self, model: PeakModel, lead: usize) -> f64 {
        match model {
            PeakModel::LastValue => 0.0,
            PeakModel::RecentPeak => {
                let last = self.recent.back().copied().unwrap_or(0.0);
                self.window_max.front().map_or(0.0, |(_, v)| v - last)
            }
            PeakModel::Trend => {
                let k = self.config.trend_steps.max(1);
                let n = self.recent.len();
                if n <= k {
                    return 0.0;
                }
                let slope = (self.recent[n - 1] - self.recent[n - 1 - k]) / k as f64;
                slope * lead as f64
            }
            PeakModel::Seasonal => self.season.rise(lead),
        }
    }

    fn recalibrate(&mut self) {
        for c in &mut self.candidates {
            c.recalibrate(self.config.quantile, self.config.min_errors.max(1));
        }
    }
}

#[cfg(test)]
mod tests;
