//! The seasonal profile of the peak forecaster: bucket means of the last few periods, by
//! phase, kept as running sums so that a sample costs O(1) and a forecast O(lead).

use std::collections::VecDeque;

use super::PeakConfig;

/// The seasonal profile: bucket means of the last `periods_kept` periods, by phase.
#[derive(Debug, Clone)]
pub(super) struct Season {
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
    pub(super) fn new(c: &PeakConfig) -> Self {
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

    pub(super) fn push(&mut self, value: f64) {
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
    pub(super) fn rise(&self, lead: usize) -> f64 {
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
