//! One candidate of the peak forecaster: its forecasts waiting for their outcome, the ring of
//! its scaled errors and the quantile taken from them, and its record (pinball loss,
//! coverage) that the forecaster chooses by.

use std::collections::VecDeque;

use super::PeakModel;

/// How a resolved forecast is scored.
pub(super) struct Scoring {
    /// The quantile served.
    pub(super) quantile: f64,
    /// Per-sample decay of the loss average.
    pub(super) decay: f64,
    /// Whether this sample's error joins the calibration ring.
    pub(super) keep_error: bool,
    /// Size of the calibration ring.
    pub(super) capacity: usize,
}

/// One candidate's calibration and record.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub(super) model: PeakModel,
    /// `(point, quantile forecast, scale)` of the forecasts not yet resolved, oldest first.
    pub(super) pending: VecDeque<(f64, Option<f64>, f64)>,
    /// Scaled errors, a ring of `Scoring::capacity`.
    pub(super) errors: Vec<f64>,
    next_error: usize,
    /// The scaled error quantile in use.
    pub(super) offset: Option<f64>,
    /// Exponentially weighted pinball loss (scaled) and its weight.
    pub(super) loss: f64,
    pub(super) weight: f64,
    pub(super) hits: usize,
    pub(super) resolved: usize,
    /// The newest forecast.
    pub(super) point: f64,
    pub(super) peak: Option<f64>,
}

impl Candidate {
    pub(super) fn new(model: PeakModel) -> Self {
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

    /// Scores the oldest pending forecast against the peak that followed it.
    pub(super) fn resolve(&mut self, realised: f64, s: &Scoring) {
        let Some((point, peak, scale)) = self.pending.pop_front() else {
            return;
        };
        if s.keep_error {
            let e = (realised - point) / scale;
            if self.errors.len() < s.capacity {
                self.errors.push(e);
            } else {
                self.errors[self.next_error] = e;
                self.next_error = (self.next_error + 1) % self.errors.len();
            }
        }
        if let Some(p) = peak {
            let q = s.quantile;
            let loss = if realised >= p {
                q * (realised - p)
            } else {
                (1.0 - q) * (p - realised)
            };
            self.loss = self.loss * s.decay + loss / scale;
            self.weight = self.weight * s.decay + 1.0;
            self.resolved += 1;
            self.hits += usize::from(realised <= p);
        }
    }

    /// Takes the error quantile anew, once `min_errors` are known.
    pub(super) fn recalibrate(&mut self, quantile: f64, min_errors: usize) {
        let n = self.errors.len();
        if n < min_errors || n == 0 {
            return;
        }
        let mut sorted = self.errors.clone();
        // Split-conformal rank: ceil((n + 1) q), so a small sample does not under-cover.
        let rank = (((n + 1) as f64 * quantile).ceil() as usize).clamp(1, n) - 1;
        let (_, v, _) = sorted.select_nth_unstable_by(rank, f64::total_cmp);
        self.offset = Some(*v);
    }
}
