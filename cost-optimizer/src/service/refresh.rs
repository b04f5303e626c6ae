//! The background task behind the `/metrics` gauges: every period it computes every
//! service's decision and cost analysis through `optimizer`, which records them (`gauges`).
//! While Prometheus is down the cost gauges keep their last value (the `metrics` crate cannot
//! unset a gauge); the refresh logs a warning each round instead.

use std::time::Duration;

use crate::service::answers;
use crate::service::state::AppState;

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
        if let Err(e) = answers::scaling_decision(state, name).await {
            tracing::warn!(error.message = %e, service = %name, "metrics refresh: no decision");
        }
        // After one failure, skip the other services' cost queries: Prometheus is down for all.
        if usage_error.is_none()
            && let Err(e) = answers::cost_analysis(state, name).await
        {
            usage_error = Some(e);
        }
    }
    if let Some(e) = usage_error {
        tracing::warn!(error.message = %e, "metrics refresh: cost gauges not updated");
    }
}
