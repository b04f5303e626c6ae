//! The `behavior` block of an autoscaling/v2 HPA, as the manifests and
//! `config/hpa-behavior.json` spell it, read into [`ScalingRules`].

use serde::Deserialize;

use super::{ScalingPolicy, ScalingPolicyType, ScalingRules, SelectPolicy};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Behavior {
    pub(super) scale_up: Rules,
    pub(super) scale_down: Rules,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Rules {
    stabilization_window_seconds: u32,
    select_policy: SelectPolicy,
    policies: Vec<PolicySpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PolicySpec {
    #[serde(rename = "type")]
    kind: Kind,
    value: u32,
    period_seconds: u32,
}

#[derive(Deserialize)]
enum Kind {
    Pods,
    Percent,
}

impl From<Rules> for ScalingRules {
    fn from(r: Rules) -> Self {
        ScalingRules {
            stabilization_window_seconds: f64::from(r.stabilization_window_seconds),
            select_policy: r.select_policy,
            policies: r
                .policies
                .into_iter()
                .map(|p| ScalingPolicy {
                    kind: match p.kind {
                        Kind::Pods => ScalingPolicyType::Pods,
                        Kind::Percent => ScalingPolicyType::Percent,
                    },
                    value: p.value,
                    period_seconds: f64::from(p.period_seconds),
                })
                .collect(),
        }
    }
}
