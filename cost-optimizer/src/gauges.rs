//! The optimizer's own series on `/metrics`: `cost_per_hour_usd`, `recommended_replicas` and
//! `cost_efficiency_ratio`, each labelled with the service they describe.
//!
//! They are set whenever an answer is computed, and a background task recomputes them for every
//! service on a fixed period, so dashboards and alerts see fresh values even when nobody calls
//! the API. While Prometheus is down the cost gauges keep their last value (the `metrics` crate
//! cannot unset a gauge); the refresh logs a warning each round instead.

use std::time::Duration;

use crate::cost::CostAnalysis;
use crate::decision::ScalingDecision;
use crate::optimizer;
use crate::startup::AppState;

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

/// Recomputes every service's gauges every `every` (no task when zero). The task holds nothing
/// that needs flushing, so it simply ends with the runtime instead of watching for shutdown.
pub fn spawn_refresh(state: AppState, every: Duration) {
    if every.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            refresh(&state).await;
        }
    });
}

async fn refresh(state: &AppState) {
    let names: Vec<String> = state.model.policies.iter().map(|(n, _)| n.to_owned()).collect();
    let mut usage_error = None;
    for name in &names {
        if let Err(e) = optimizer::scaling_decision(state, name).await {
            tracing::warn!(error.message = %e, service = %name, "metrics refresh: no decision");
        }
        // After one failure, skip the other services' cost queries: Prometheus is down for all.
        if usage_error.is_none()
            && let Err(e) = optimizer::cost_analysis(state, name).await
        {
            usage_error = Some(e);
        }
    }
    if let Some(e) = usage_error {
        tracing::warn!(error.message = %e, "metrics refresh: cost gauges not updated");
    }
}
