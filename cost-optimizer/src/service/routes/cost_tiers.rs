//! `GET /cost-tiers`: the pod sizes on offer, priced, with the unit prices in force.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use service_kit::ApiJson;

use crate::pricing::{HOURS_PER_MONTH, Pricing};
use crate::service::state::AppState;
use crate::tiers::Tier;

/// One tier with its price per pod.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PricedTier {
    /// The tier.
    #[serde(flatten)]
    pub tier: Tier,
    /// USD per pod-hour at its requests.
    pub hourly_usd: f64,
    /// USD per pod-month (730 h).
    pub monthly_usd: f64,
}

/// The answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CostTiers {
    /// Unit prices in force (defaults, file and flags applied).
    pub pricing: Pricing,
    /// Tiers, smallest first.
    pub tiers: Vec<PricedTier>,
}

/// The tiers route.
pub fn router() -> Router<AppState> {
    Router::new().route("/cost-tiers", get(get_cost_tiers))
}

/// The pod sizes on offer, priced, with the unit prices in force.
#[utoipa::path(get, path = "/cost-tiers", tag = "cost", responses((status = 200, body = CostTiers)))]
pub(crate) async fn get_cost_tiers(State(state): State<AppState>) -> ApiJson<CostTiers> {
    let pricing = state.model.pricing;
    let tiers = state
        .model
        .tiers
        .tiers()
        .iter()
        .map(|t| {
            let hourly = pricing.tier_hourly(t);
            PricedTier {
                tier: t.clone(),
                hourly_usd: hourly,
                monthly_usd: hourly * HOURS_PER_MONTH,
            }
        })
        .collect();
    ApiJson(CostTiers { pricing, tiers })
}
