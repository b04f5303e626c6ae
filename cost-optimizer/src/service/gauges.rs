//! The optimizer's own series on `/metrics`: `cost_per_hour_usd`, `recommended_replicas` and
//! `cost_efficiency_ratio`, each labelled with the service they describe.
//!
//! They are set whenever an answer is computed (by `optimizer`), and a background task
//! (`refresh`) recomputes them for every service on a fixed period, so dashboards and alerts
//! see fresh values even when nobody calls the API.

use crate::cost::CostAnalysis;
use crate::decision::ScalingDecision;

/// Records the cost and efficiency of one analysis.
pub fn record_analysis(a: &CostAnalysis) {
    let service = a.service.clone();
    metrics::gauge!("cost_per_hour_usd", "service" => service.clone()).set(a.cost.hourly.total);
    // CPU is the resource the replicas scale on, so its efficiency is the one exported;
    // a service with no replicas has no ratio and keeps its last value.
    if let Some(e) = a.efficiency.cpu {
        metrics::gauge!("cost_efficiency_ratio", "service" => service).set(e);
    }
}

/// Records the recommendation of one decision.
pub fn record_decision(d: &ScalingDecision) {
    metrics::gauge!("recommended_replicas", "service" => d.service.clone()).set(f64::from(d.recommended_replicas));
}
