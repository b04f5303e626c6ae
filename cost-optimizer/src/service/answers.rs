//! What the endpoints answer, assembled from Prometheus, the predictor and the pure domain.
//! Handlers and the background metrics refresh both call these, so `/metrics` and the API
//! never disagree on how a figure is computed.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::cost::{self, CostAnalysis, CostTotals};
use crate::decision::{self, DecisionInput, ScalingDecision};
use crate::service::api_error::ApiError;
use crate::service::gauges;
use crate::service::state::AppState;
use crate::service::usage::CurrentUsage;

/// `GET /cost-analysis/{service}`: the domain's analysis plus what it rests on.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CostAnalysisReport {
    /// The analysis.
    #[serde(flatten)]
    pub analysis: CostAnalysis,
    /// Window that mean and p95 usage cover.
    pub usage_window_seconds: f64,
    /// CPU points in the window (0: the service reported nothing, so usage reads 0).
    pub cpu_points: usize,
    /// Memory points in the window.
    pub memory_points: usize,
    /// When it was computed.
    pub generated_at: DateTime<Utc>,
}

/// `GET /cost-analysis/all`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AllCostAnalysis {
    /// One analysis per configured service, in name order.
    pub services: Vec<CostAnalysisReport>,
    /// Sums over the services.
    pub totals: CostTotals,
    /// When it was computed.
    pub generated_at: DateTime<Utc>,
}

/// Whether a data source answered, and what it said.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DataSource {
    /// It answered with usable data.
    pub ok: bool,
    /// What was used, or why it could not be.
    pub detail: String,
}

/// `GET /scaling-decision/{service}`: the domain's decision plus the state of its sources.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DecisionReport {
    /// The decision.
    #[serde(flatten)]
    pub decision: ScalingDecision,
    /// Prometheus (current usage and replicas).
    pub prometheus: DataSource,
    /// The predictor (forecast).
    pub predictor: DataSource,
    /// When it was computed.
    pub generated_at: DateTime<Utc>,
}

/// Analyses one service; 404 for an unknown one, 503 when Prometheus cannot answer.
pub async fn cost_analysis(state: &AppState, service: &str) -> Result<CostAnalysisReport, ApiError> {
    // Unknown services are refused before any query is sent.
    state.model.service(service)?;
    let (now, window) = tokio::try_join!(state.usage.current(service), state.usage.over_window(service))?;
    let analysis = cost::analyze(&state.model, service, now.replicas.unwrap_or(0), window.stats)?;
    gauges::record_analysis(&analysis);
    Ok(CostAnalysisReport {
        analysis,
        usage_window_seconds: state.usage.window().as_secs_f64(),
        cpu_points: window.cpu_points,
        memory_points: window.memory_points,
        generated_at: Utc::now(),
    })
}

/// Analyses every configured service. Sequential on purpose: the first failure ends it, so a
/// hung Prometheus costs one timeout, not one per service.
pub async fn cost_analysis_all(state: &AppState) -> Result<AllCostAnalysis, ApiError> {
    let mut services = Vec::new();
    for (name, _) in state.model.policies.iter() {
        services.push(cost_analysis(state, name).await?);
    }
    let analyses: Vec<CostAnalysis> = services.iter().map(|r| r.analysis.clone()).collect();
    Ok(AllCostAnalysis {
        totals: cost::totals(&analyses),
        services,
        generated_at: Utc::now(),
    })
}

/// Decides for one service. Never fails for a known service: missing usage or forecast turns
/// into a fallback that the answer explains.
pub async fn scaling_decision(state: &AppState, service: &str) -> Result<DecisionReport, ApiError> {
    let (policy, _) = state.model.service(service)?;
    let window = policy.scale_down_stabilization_seconds;
    let (usage, forecast) = tokio::join!(state.usage.current(service), state.predictor.forecast(service, window));
    let mut reasons = Vec::new();
    let (current, prometheus) = match usage {
        Ok(u) => (u, ok(describe_usage(&u))),
        Err(e) => {
            reasons.push(e.to_string());
            (CurrentUsage::default(), failed(e.to_string()))
        }
    };
    let (forecast, predictor_replicas, predictor) = match forecast {
        Ok((p, f)) => {
            let model = p.model.as_deref().unwrap_or("unknown");
            let horizon = p.horizon_seconds.unwrap_or(0.0);
            (Some(f), p.replicas, ok(format!("model {model}, horizon {horizon} s")))
        }
        Err(why) => {
            reasons.push(why.clone());
            (None, None, failed(why))
        }
    };
    // Replicas: Prometheus first, then what the predictor saw, else the policy's minimum (said so).
    let current_replicas = match (current.replicas, predictor_replicas) {
        (Some(n), _) => n,
        (None, Some(n)) if n.is_finite() && n >= 0.0 => n.round() as u32,
        _ => {
            reasons.push(format!(
                "no running replicas were seen, assuming the minimum of {}",
                policy.min_replicas
            ));
            policy.min_replicas
        }
    };
    let input = DecisionInput {
        current_replicas,
        current_cpu_cores: current.cpu_cores,
        current_memory_gib: current.memory_gib,
        forecast,
        unavailable_reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
    };
    let decision = decision::decide_for(&state.model, service, &input)?;
    gauges::record_decision(&decision);
    Ok(DecisionReport {
        decision,
        prometheus,
        predictor,
        generated_at: Utc::now(),
    })
}

fn describe_usage(u: &CurrentUsage) -> String {
    let fmt = |v: Option<f64>, unit: &str| v.map_or_else(|| "no data".to_owned(), |x| format!("{x:.3} {unit}"));
    let replicas = u.replicas.map_or_else(|| "no".to_owned(), |n| n.to_string());
    format!(
        "{replicas} replicas, CPU {}, memory {}",
        fmt(u.cpu_cores, "cores"),
        fmt(u.memory_gib, "GiB")
    )
}

fn ok(detail: String) -> DataSource {
    DataSource { ok: true, detail }
}

fn failed(detail: String) -> DataSource {
    DataSource { ok: false, detail }
}
