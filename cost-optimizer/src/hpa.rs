//! The Kubernetes Horizontal Pod Autoscaler algorithm (autoscaling/v2), as documented on
//! kubernetes.io "Horizontal Pod Autoscaling" and implemented in the HPA controller: per-metric
//! proposals with a 10 % tolerance, the largest proposal wins, stabilization windows
//! (scale-down keeps the highest recommendation of the last 300 s), then rate-limiting
//! policies (default scale-up: the larger of +100 % and +4 pods per 15 s) and the min/max clamp.
//!
//! Times are seconds as `f64` from any origin; the simulator drives it with a 15 s sync.

use std::collections::VecDeque;

/// Kind of a scaling policy: an absolute number of pods or a percentage of the replicas at the
/// start of the period.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum ScalingPolicyType {
    /// Change by at most `value` pods per period.
    Pods,
    /// Change by at most `value` percent per period.
    Percent,
}

/// One rate-limiting policy (`behavior.scaleUp.policies[]`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ScalingPolicy {
    /// Pods or percent.
    pub kind: ScalingPolicyType,
    /// Pods or percent allowed per period.
    pub value: u32,
    /// Length of the period in seconds.
    pub period_seconds: f64,
}

/// Which policy wins when several apply (`selectPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SelectPolicy {
    /// The one allowing the largest change (the Kubernetes default).
    Max,
    /// The one allowing the smallest change.
    Min,
}

/// Rules for one direction (`behavior.scaleUp` or `behavior.scaleDown`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScalingRules {
    /// Stabilization window in seconds.
    pub stabilization_window_seconds: f64,
    /// How the policies combine.
    pub select_policy: SelectPolicy,
    /// Rate limits; empty means unlimited.
    pub policies: Vec<ScalingPolicy>,
}

/// An HPA's bounds and behaviour.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HpaSpec {
    /// `minReplicas`.
    pub min_replicas: u32,
    /// `maxReplicas`.
    pub max_replicas: u32,
    /// `--horizontal-pod-autoscaler-tolerance`, 0.1 by default.
    pub tolerance: f64,
    /// Scale-up behaviour.
    pub scale_up: ScalingRules,
    /// Scale-down behaviour.
    pub scale_down: ScalingRules,
}

impl HpaSpec {
    /// The documented defaults: no scale-up stabilization, +100 % or +4 pods per 15 s;
    /// 300 s scale-down stabilization, -100 % per 15 s.
    pub fn with_defaults(min_replicas: u32, max_replicas: u32) -> Self {
        let per15 = |kind, value| ScalingPolicy {
            kind,
            value,
            period_seconds: 15.0,
        };
        Self {
            min_replicas,
            max_replicas,
            tolerance: 0.1,
            scale_up: ScalingRules {
                stabilization_window_seconds: 0.0,
                select_policy: SelectPolicy::Max,
                policies: vec![
                    per15(ScalingPolicyType::Percent, 100),
                    per15(ScalingPolicyType::Pods, 4),
                ],
            },
            scale_down: ScalingRules {
                stabilization_window_seconds: 300.0,
                select_policy: SelectPolicy::Max,
                policies: vec![per15(ScalingPolicyType::Percent, 100)],
            },
        }
    }

    /// The behaviour every HPA in `k8s/` deploys, from `config/hpa-behavior.json`
    /// (check-deploy fails when a manifest differs from that file, so the simulator and the
    /// cluster run one behaviour).
    pub fn deployed(min_replicas: u32, max_replicas: u32) -> Result<Self, String> {
        let b: behavior::Behavior =
            serde_json::from_str(DEPLOYED_BEHAVIOR).map_err(|e| format!("config/hpa-behavior.json: {e}"))?;
        Ok(Self {
            min_replicas,
            max_replicas,
            tolerance: 0.1,
            scale_up: b.scale_up.into(),
            scale_down: b.scale_down.into(),
        })
    }
}

/// The deployed behaviour, compiled in so that `simulate` runs from any directory.
pub const DEPLOYED_BEHAVIOR: &str = include_str!("../../config/hpa-behavior.json");

mod behavior;

/// The documented formula `ceil(currentReplicas * currentMetric / target)`, except that a ratio
/// within `tolerance` of 1 keeps `current_replicas`.
pub fn desired_replicas(current_replicas: u32, current_metric: f64, target: f64, tolerance: f64) -> u32 {
    let ratio = current_metric / target;
    if !ratio.is_finite() || within_tolerance(ratio, tolerance) {
        return current_replicas;
    }
    ceil_u32(ratio * f64::from(current_replicas))
}

/// Proposal of a resource-utilization metric when some pods are not ready yet. As the controller
/// does, the average is taken over ready pods; on a scale-up the not-ready pods are then counted
/// at 0 % so that pods already starting are not asked for twice, and if that flips the direction
/// or lands within tolerance the replicas stay.
pub fn utilization_proposal(
    current_replicas: u32,
    ready_pods: u32,
    usage_total: f64,
    target_per_pod: f64,
    tolerance: f64,
) -> u32 {
    if ready_pods == 0 {
        // No metrics at all: the controller cannot compute a ratio and leaves the scale alone.
        return current_replicas;
    }
    let ratio = usage_total / (f64::from(ready_pods) * target_per_pod);
    if !ratio.is_finite() || within_tolerance(ratio, tolerance) {
        return current_replicas;
    }
    if ratio > 1.0 && ready_pods < current_replicas {
        let counted = f64::from(current_replicas);
        let rebalanced = usage_total / (counted * target_per_pod);
        if rebalanced < 1.0 || within_tolerance(rebalanced, tolerance) {
            return current_replicas;
        }
        return ceil_u32(rebalanced * counted);
    }
    ceil_u32(ratio * f64::from(ready_pods))
}

/// Proposal of an External metric with an `AverageValue` target (how the predictor's forecast
/// is consumed): `ceil(total / targetAverage)` unless total / (target * current) is within tolerance.
pub fn average_value_proposal(current_replicas: u32, metric_total: f64, target_average: f64, tolerance: f64) -> u32 {
    let ratio = metric_total / (target_average * f64::from(current_replicas));
    if !ratio.is_finite() || within_tolerance(ratio, tolerance) {
        return current_replicas;
    }
    ceil_u32(metric_total / target_average)
}

/// Slack for float rounding: the controller computes in milli-units, where 2.1 / 0.35 is exactly
/// 6 and 110 / 100 exactly 1.1; in `f64` they come out a hair above and would add a replica.
pub const EPSILON: f64 = 1e-9;

/// `ceil` that forgives float noise; the saturating cast is intended (absurd ratios end at
/// max_replicas anyway).
pub fn ceil_u32(x: f64) -> u32 {
    (x - EPSILON).ceil().max(0.0) as u32
}

/// True when `ratio` is within `tolerance` of 1, forgiving float noise.
pub fn within_tolerance(ratio: f64, tolerance: f64) -> bool {
    (ratio - 1.0).abs() <= tolerance + EPSILON
}

/// The controller's memory for one HPA: past recommendations (for stabilization) and past scale
/// events (for rate limits).
#[derive(Debug, Clone)]
pub struct Hpa {
    spec: HpaSpec,
    recommendations: VecDeque<(f64, u32)>,
    events: VecDeque<(f64, i64)>,
}

impl Hpa {
    /// A controller with no history.
    pub fn new(spec: HpaSpec) -> Self {
        Self {
            spec,
            recommendations: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The spec it runs with.
    pub fn spec(&self) -> &HpaSpec {
        &self.spec
    }

    /// One sync: takes the per-metric proposals (the largest wins; none keeps the scale) and
    /// returns the replicas to set.
    pub fn reconcile(&mut self, now: f64, current_replicas: u32, proposals: &[u32]) -> u32 {
        let s = &self.spec;
        if current_replicas == 0 {
            return 0; // scaling is disabled for a workload scaled to zero by hand
        }
        // Out-of-bounds replicas are corrected at once, bypassing behaviour (controller does so).
        if current_replicas > s.max_replicas || current_replicas < s.min_replicas {
            let fixed = current_replicas.clamp(s.min_replicas, s.max_replicas);
            self.record_event(now, current_replicas, fixed);
            return fixed;
        }
        let desired = proposals.iter().copied().max().unwrap_or(current_replicas);
        self.recommendations.push_back((now, desired));
        let stabilized = self.stabilize(now, current_replicas, desired);
        let limited = self.rate_limit(now, current_replicas, stabilized);
        let result = limited.clamp(s.min_replicas, s.max_replicas);
        self.record_event(now, current_replicas, result);
        self.prune(now);
        result
    }

    fn stabilize(&self, now: f64, current: u32, desired: u32) -> u32 {
        let up_cut = now - self.spec.scale_up.stabilization_window_seconds;
        let down_cut = now - self.spec.scale_down.stabilization_window_seconds;
        let (mut up, mut down) = (desired, desired);
        for &(t, r) in &self.recommendations {
            if t > up_cut {
                up = up.min(r);
            }
            if t > down_cut {
                down = down.max(r);
            }
        }
        current.max(up).min(down)
    }

    fn rate_limit(&self, now: f64, current: u32, stabilized: u32) -> u32 {
        let current_i = i64::from(current);
        let period_start = |period: f64| {
            let cut = now - period;
            current_i
                - self
                    .events
                    .iter()
                    .filter(|(t, _)| *t > cut)
                    .map(|(_, d)| d)
                    .sum::<i64>()
        };
        let to_u32 = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
        if stabilized > current && !self.spec.scale_up.policies.is_empty() {
            let limit = self.spec.scale_up.policies.iter().map(|p| {
                let start = period_start(p.period_seconds);
                match p.kind {
                    ScalingPolicyType::Pods => start + i64::from(p.value),
                    ScalingPolicyType::Percent => (start as f64 * (1.0 + f64::from(p.value) / 100.0)).ceil() as i64,
                }
            });
            let limit = match self.spec.scale_up.select_policy {
                SelectPolicy::Max => limit.max(),
                SelectPolicy::Min => limit.min(),
            };
            return stabilized.min(to_u32(limit.unwrap_or(i64::MAX)));
        }
        if stabilized < current && !self.spec.scale_down.policies.is_empty() {
            let limit = self.spec.scale_down.policies.iter().map(|p| {
                let start = period_start(p.period_seconds);
                match p.kind {
                    ScalingPolicyType::Pods => start - i64::from(p.value),
                    // Truncation, as the controller's int32 conversion: 72 * 0.9 = 64.8 -> 64.
                    ScalingPolicyType::Percent => (start as f64 * (1.0 - f64::from(p.value) / 100.0)) as i64,
                }
            });
            // Max allows the largest change, which on the way down is the lowest floor.
            let limit = match self.spec.scale_down.select_policy {
                SelectPolicy::Max => limit.min(),
                SelectPolicy::Min => limit.max(),
            };
            return stabilized.max(to_u32(limit.unwrap_or(0)));
        }
        stabilized
    }

    fn record_event(&mut self, now: f64, from: u32, to: u32) {
        if from != to {
            self.events.push_back((now, i64::from(to) - i64::from(from)));
        }
    }

    fn prune(&mut self, now: f64) {
        let s = &self.spec;
        let keep_recs = s
            .scale_up
            .stabilization_window_seconds
            .max(s.scale_down.stabilization_window_seconds);
        while self.recommendations.front().is_some_and(|(t, _)| *t <= now - keep_recs) {
            self.recommendations.pop_front();
        }
        let periods = s
            .scale_up
            .policies
            .iter()
            .chain(&s.scale_down.policies)
            .map(|p| p.period_seconds);
        let keep_events = periods.fold(0.0, f64::max);
        while self.events.front().is_some_and(|(t, _)| *t <= now - keep_events) {
            self.events.pop_front();
        }
    }
}

#[cfg(test)]
#[path = "hpa_tests.rs"]
mod tests;
