//! Replays a demand trace through autoscaling policies and measures cost and under-provisioning.
//!
//! Model, per 15 s sync step `i` (time `t = 15 i`): demand `d[i]` (in pods of capacity 1) holds
//! over `[t, t + 15)`. What a policy sees is not `d` but Prometheus' view: a scrape every
//! `scrape_interval` of a `rate(...[1m])`, i.e. the mean of the demand over the window before
//! the last scrape, which reaches the HPA `scrape_lag` later (the adapter's and the metrics
//! pipeline's delay). New pods serve only after `startup_delay`; removed pods go at once (the
//! unready ones first). A step is under-provisioned when `d[i]` exceeds the ready capacity.
//! Forecasters get only that observed history up to `t`, bounded to `history_steps`.
//!
//! The HPA is the one `k8s/` deploys: its behaviour comes from `config/hpa-behavior.json`,
//! which check-deploy holds every manifest to, and the forecast reaches it as an
//! `AverageValue` target (replicas = ceil(forecast / target per pod), whatever is ready).

use serde::Serialize;

use crate::forecast::Forecaster;
use crate::hpa::{Hpa, HpaSpec};
use crate::trace::Trace;

pub mod cli;
mod engine;
pub mod report;
pub mod svg;

/// The autoscaling strategies compared (`--policy` on the command line, `policy` in
/// reports: named apart from the HPA's scaling policies and the services' cost policies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// The stock HPA on observed CPU.
    Reactive,
    /// The stock HPA with the forecast as a second metric.
    Predictive,
    /// The scaling-decision rule of [`crate::decision`].
    CostAware,
}

impl Strategy {
    /// All strategies, in report order.
    pub const ALL: [Self; 3] = [Self::Reactive, Self::Predictive, Self::CostAware];

    /// The CLI and report name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Reactive => "reactive",
            Self::Predictive => "predictive",
            Self::CostAware => "cost-aware",
        }
    }
}

impl std::str::FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| format!("unknown policy {s:?} (reactive, predictive, cost-aware)"))
    }
}

/// Simulation parameters; defaults are Kubernetes' and Prometheus' defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimConfig {
    /// HPA sync period and simulation step, seconds (15).
    pub step_seconds: f64,
    /// Prometheus scrape interval, seconds (15); rounded to whole steps.
    pub scrape_interval_seconds: f64,
    /// Delay from a scrape to the HPA reading it, seconds (15).
    pub scrape_lag_seconds: f64,
    /// `rate()` window, seconds (60).
    pub rate_window_seconds: f64,
    /// Time from pod creation to ready, seconds (60).
    pub startup_delay_seconds: f64,
    /// How far ahead the forecast peak is taken, seconds: what a scale-up takes to help,
    /// start-up + rate window + scrape lag + sync (150).
    pub lead_seconds: f64,
    /// Target utilization for all policies (0.7).
    pub target_utilization: f64,
    /// Replica bounds; the default max never binds for peak_pods 10 (100).
    pub min_replicas: u32,
    /// Upper replica bound.
    pub max_replicas: u32,
    /// Observations given to a forecaster, at most (seven days of 15 s steps).
    pub history_steps: usize,
    /// Price of one pod-hour in USD (a `medium` pod at OpenCost's default prices).
    pub pod_hour_usd: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            step_seconds: 15.0,
            scrape_interval_seconds: 15.0,
            scrape_lag_seconds: 15.0,
            rate_window_seconds: 60.0,
            startup_delay_seconds: 60.0,
            lead_seconds: 150.0,
            target_utilization: 0.7,
            min_replicas: 1,
            max_replicas: 1000,
            history_steps: 7 * 5760,
            pod_hour_usd: 0.017924,
        }
    }
}

impl SimConfig {
    /// The HPA both HPA-based policies run: the deployed behaviour with these bounds.
    pub fn hpa_spec(&self) -> Result<HpaSpec, String> {
        HpaSpec::deployed(self.min_replicas, self.max_replicas)
    }

    /// The lead time a scale-up needs with these settings: start-up, the rate window, the
    /// scrape lag and one sync.
    pub fn default_lead_seconds(&self) -> f64 {
        self.startup_delay_seconds + self.rate_window_seconds + self.scrape_lag_seconds + self.step_seconds
    }

    fn steps(&self, seconds: f64) -> usize {
        (seconds / self.step_seconds).ceil().max(1.0) as usize
    }
}

/// Outcome of one policy on one trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyResult {
    /// Which policy.
    pub policy: Strategy,
    /// Pods running (ready or starting) integrated over time.
    pub pod_hours: f64,
    /// pod_hours x pod price, USD.
    pub cost_usd: f64,
    /// Minutes in which demand exceeded ready capacity.
    pub underprovisioned_minutes: f64,
    /// Share of the time under-provisioned.
    pub underprovisioned_time_share: f64,
    /// Share of the demand (pod-seconds) that exceeded ready capacity.
    pub unserved_demand_share: f64,
    /// Largest demand minus ready capacity, in pods.
    pub peak_shortfall_pods: f64,
    /// Number of replica changes.
    pub scaling_events: u32,
    /// Decisions taken without a forecast (model had too little history or failed).
    pub forecast_fallbacks: u32,
    /// Share of served forecasts the observed lead-time peak did not exceed (the model's own
    /// calibration, as the service would measure it); `None` when not measured.
    pub forecast_coverage: Option<f64>,
    /// Ready capacity per step, for charts; empty unless requested.
    #[serde(skip)]
    pub ready_series: Vec<f64>,
}

/// Outcome of all policies on one trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceResult {
    /// The trace (name, steps).
    pub trace: Trace,
    /// Hours simulated.
    pub hours: f64,
    /// Peak demand in pods.
    pub peak_pods: f64,
    /// One entry per policy, in the order asked.
    pub results: Vec<PolicyResult>,
}

/// Builds the forecaster for one trace; gets the true demand so that an oracle can be built
/// (real models must ignore it). Every policy on the trace asks the same forecaster the same
/// questions in step order, so a model may memoize per step. `Sync` so that traces can run on
/// several threads.
pub type ForecasterFactory<'a> = dyn Fn(&[f64]) -> Box<dyn Forecaster> + Sync + 'a;

/// Runs each policy on a trace already scaled to pods; fails only when the deployed HPA
/// behaviour cannot be read.
pub fn simulate(
    demand: &Trace,
    config: &SimConfig,
    policies: &[Strategy],
    forecaster: &ForecasterFactory<'_>,
    keep_series: bool,
) -> Result<TraceResult, String> {
    let spec = config.hpa_spec()?;
    // One forecaster for all policies: what it sees (the observed history) does not depend on
    // the policy, so a model is run once per trace rather than once per policy.
    let mut f = forecaster(&demand.values);
    let mut results: Vec<PolicyResult> = policies
        .iter()
        .map(|&p| {
            engine::run(
                &demand.values,
                config,
                p,
                Hpa::new(spec.clone()),
                f.as_mut(),
                keep_series,
            )
        })
        .collect();
    let coverage = f.coverage();
    for r in results.iter_mut().filter(|r| r.policy != Strategy::Reactive) {
        r.forecast_coverage = coverage;
    }
    Ok(TraceResult {
        trace: demand.clone(),
        hours: demand.hours(),
        peak_pods: demand.values.iter().copied().fold(0.0, f64::max),
        results,
    })
}

#[cfg(test)]
#[path = "simulate_tests.rs"]
mod tests;
