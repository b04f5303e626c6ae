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

/// The candidates, simplest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// One candidate's calibration and record.
#[derive(Debug, Clone)]
struct Candidate {
    model: PeakModel,
    /// `(point, quantile forecast, scale)` of the forecasts not yet resolved, oldest first.
    pending: VecDeque<(f64, Option<f64>, f64)>,
    /// Scaled errors, a ring of `calibration_samples`.
    errors: Vec<f64>,
    next_error: usize,
    /// The scaled error quantile in use.
    offset: Option<f64>,
    /// Exponentially weighted pinball loss (scaled) and its weight.
    loss: f64,
    weight: f64,
    hits: usize,
    resolved: usize,
    /// The newest forecast.
    point: f64,
    peak: Option<f64>,
}

impl Candidate {
    fn new(model: PeakModel) -> Self {
        Self {
            model,
            pending: VecDeque::new(),
            errors: Vec::new(),
            next_error: 0,
            offset: None,
            loss: 0.0,
            weight: 0.0,
            hits: 0,
            resolved: 0,
            point: 0.0,
            peak: None,
        }
    }
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
        let q = self.config.quantile;
        for c in &mut self.candidates {
            if c.pending.len() >= lead
                && let Some((point, peak, scale)) = c.pending.pop_front()
            {
                resolve(c, realised, point, peak, scale, q, decay, keep_error, &self.config);
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

    /// Errors are divided by the recent level, so a quiet night and a busy hour share one
    /// distribution; the floor keeps a near-zero series from dividing by nothing.
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
        let q = self.config.quantile;
        let min = self.config.min_errors.max(1);
        for c in &mut self.candidates {
            if c.errors.len() < min {
                continue;
            }
            let mut sorted = c.errors.clone();
            // Split-conformal rank: ceil((n + 1) q), so a small sample does not under-cover.
            let n = sorted.len();
            let rank = (((n + 1) as f64 * q).ceil() as usize).clamp(1, n) - 1;
            let (_, v, _) = sorted.select_nth_unstable_by(rank, f64::total_cmp);
            c.offset = Some(*v);
        }
    }
}

/// Scores a forecast made `lead` samples ago against the peak that followed it.
#[allow(clippy::too_many_arguments)]
fn resolve(
    c: &mut Candidate,
    realised: f64,
    point: f64,
    peak: Option<f64>,
    scale: f64,
    q: f64,
    decay: f64,
    keep_error: bool,
    config: &PeakConfig,
) {
    if keep_error {
        let e = (realised - point) / scale;
        if c.errors.len() < config.calibration_samples.max(1) {
            c.errors.push(e);
        } else {
            c.errors[c.next_error] = e;
            c.next_error = (c.next_error + 1) % c.errors.len();
        }
    }
    if let Some(p) = peak {
        let loss = if realised >= p {
            q * (realised - p)
        } else {
            (1.0 - q) * (p - realised)
        };
        c.loss = c.loss * decay + loss / scale;
        c.weight = c.weight * decay + 1.0;
        c.resolved += 1;
        c.hits += usize::from(realised <= p);
    }
}

/// The seasonal profile: bucket means of the last `periods_kept` periods, by phase.
#[derive(Debug, Clone)]
struct Season {
    bucket_steps: usize,
    period: usize,
    kept: usize,
    /// Complete bucket means, oldest first, at most `period * kept`.
    buckets: VecDeque<f64>,
    /// Sum and count by phase over `buckets`.
    sums: Vec<f64>,
    counts: Vec<usize>,
    open_sum: f64,
    open_count: usize,
    /// Index of the next bucket to complete (its phase is `index % period`).
    index: usize,
    /// Samples into the open bucket.
    into: usize,
}

impl Season {
    fn new(c: &PeakConfig) -> Self {
        Self {
            bucket_steps: c.bucket_steps.max(1),
            period: c.period_buckets,
            kept: c.periods_kept.max(1),
            buckets: VecDeque::new(),
            sums: vec![0.0; c.period_buckets],
            counts: vec![0; c.period_buckets],
            open_sum: 0.0,
            open_count: 0,
            index: 0,
            into: 0,
        }
    }

    fn push(&mut self, value: f64) {
        if self.period == 0 {
            return;
        }
        self.open_sum += value;
        self.open_count += 1;
        self.into += 1;
        if self.into < self.bucket_steps {
            return;
        }
        let mean = self.open_sum / self.open_count as f64;
        let phase = self.index % self.period;
        self.buckets.push_back(mean);
        self.sums[phase] += mean;
        self.counts[phase] += 1;
        if self.buckets.len() > self.period * self.kept
            && let Some(old) = self.buckets.pop_front()
        {
            // The popped bucket's index is `index - len` (the new one is `index`).
            let old_phase = (self.index - self.buckets.len()) % self.period;
            self.sums[old_phase] -= old;
            self.counts[old_phase] -= 1;
        }
        self.index += 1;
        self.into = 0;
        self.open_sum = 0.0;
        self.open_count = 0;
    }

    fn mean(&self, phase: usize) -> Option<f64> {
        let c = *self.counts.get(phase)?;
        (c > 0).then(|| self.sums[phase] / c as f64)
    }

    /// The profile's largest rise from the current bucket over the next `lead` samples; zero
    /// until a whole period has been seen.
    fn rise(&self, lead: usize) -> f64 {
        if self.period == 0 || self.index < self.period {
            return 0.0;
        }
        let now = self.index % self.period;
        let Some(base) = self.mean(now) else {
            return 0.0;
        };
        let ahead = (self.into + lead).div_ceil(self.bucket_steps);
        (1..=ahead)
            .filter_map(|k| self.mean((now + k) % self.period))
            .map(|m| m - base)
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
#[path = "peak_tests.rs"]
mod tests;
