//! Tables and the cross-trace summary of a simulation. The figure tracked by the project is the
//! under-provisioned minutes of each policy against reactive, median over traces, read together
//! with the pod-hours ratio (fewer minutes bought with more pods is not a win by itself).

use serde::Serialize;

use super::{Strategy, TraceResult};

/// One policy over all traces.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicySummary {
    /// Which policy.
    pub policy: Strategy,
    /// Traces run.
    pub traces: usize,
    /// Sum of pod-hours.
    pub total_pod_hours: f64,
    /// Sum of cost, USD.
    pub total_cost_usd: f64,
    /// Sum of under-provisioned minutes.
    pub total_underprovisioned_minutes: f64,
    /// Median over traces of under-provisioned minutes.
    pub median_underprovisioned_minutes: f64,
    /// Median over traces of the unserved share of demand.
    pub median_unserved_demand_share: f64,
    /// Median over traces of pod-hours relative to reactive (1.0 = same); `None` without reactive.
    pub median_pod_hours_vs_reactive: Option<f64>,
    /// Median over traces of under-provisioned minutes relative to reactive, over traces where
    /// reactive was short at all.
    pub median_underprovisioned_vs_reactive: Option<f64>,
    /// Traces where this policy had fewer under-provisioned minutes at equal or lower pod-hours.
    pub traces_better_at_no_extra_cost: usize,
    /// Traces where reactive was short at all (the ones the ratios are taken over).
    pub traces_reactive_short: usize,
    /// Of those, traces where this policy had fewer under-provisioned minutes than reactive.
    pub traces_fewer_underprovisioned: usize,
    /// Median over traces of the forecaster's measured coverage of the lead-time peak.
    pub median_forecast_coverage: Option<f64>,
}

/// All policies over all traces.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// In the order the policies were run.
    pub policies: Vec<PolicySummary>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// Aggregates per-trace results.
pub fn summarize(results: &[TraceResult]) -> Summary {
    let kinds: Vec<Strategy> = results
        .first()
        .map(|r| r.results.iter().map(|p| p.policy).collect())
        .unwrap_or_default();
    let policies = kinds
        .into_iter()
        .map(|kind| {
            let pairs: Vec<_> = results
                .iter()
                .filter_map(|t| {
                    let me = t.results.iter().find(|p| p.policy == kind)?;
                    Some((me, t.results.iter().find(|p| p.policy == Strategy::Reactive)))
                })
                .collect();
            let sum = |f: &dyn Fn(&crate::simulate::PolicyResult) -> f64| pairs.iter().map(|(m, _)| f(m)).sum::<f64>();
            let vs = |f: &dyn Fn(&crate::simulate::PolicyResult) -> f64| {
                median(
                    pairs
                        .iter()
                        .filter_map(|(m, r)| r.filter(|r| f(r) > 0.0).map(|r| f(m) / f(r)))
                        .collect(),
                )
            };
            PolicySummary {
                policy: kind,
                traces: pairs.len(),
                total_pod_hours: sum(&|p| p.pod_hours),
                total_cost_usd: sum(&|p| p.cost_usd),
                total_underprovisioned_minutes: sum(&|p| p.underprovisioned_minutes),
                median_underprovisioned_minutes: median(
                    pairs.iter().map(|(m, _)| m.underprovisioned_minutes).collect(),
                )
                .unwrap_or(0.0),
                median_unserved_demand_share: median(pairs.iter().map(|(m, _)| m.unserved_demand_share).collect())
                    .unwrap_or(0.0),
                median_pod_hours_vs_reactive: vs(&|p| p.pod_hours),
                median_underprovisioned_vs_reactive: vs(&|p| p.underprovisioned_minutes),
                traces_better_at_no_extra_cost: pairs
                    .iter()
                    .filter(|(m, r)| {
                        r.is_some_and(|r| {
                            m.underprovisioned_minutes < r.underprovisioned_minutes && m.pod_hours <= r.pod_hours
                        })
                    })
                    .count(),
                traces_reactive_short: pairs
                    .iter()
                    .filter(|(_, r)| r.is_some_and(|r| r.underprovisioned_minutes > 0.0))
                    .count(),
                traces_fewer_underprovisioned: pairs
                    .iter()
                    .filter(|(m, r)| {
                        r.is_some_and(|r| {
                            r.underprovisioned_minutes > 0.0 && m.underprovisioned_minutes < r.underprovisioned_minutes
                        })
                    })
                    .count(),
                median_forecast_coverage: median(pairs.iter().filter_map(|(m, _)| m.forecast_coverage).collect()),
            }
        })
        .collect();
    Summary { policies }
}

/// A plain-text table for one trace.
pub fn trace_table(t: &TraceResult) -> String {
    let mut table = service_kit::table::text(
        1,
        [
            "policy",
            "pod-hours",
            "cost USD",
            "under min",
            "under %",
            "unserved %",
            "peak short",
            "events",
        ],
    );
    for p in &t.results {
        table.add_row([
            p.policy.name().to_owned(),
            format!("{:.1}", p.pod_hours),
            format!("{:.2}", p.cost_usd),
            format!("{:.1}", p.underprovisioned_minutes),
            format!("{:.2}", p.underprovisioned_time_share * 100.0),
            format!("{:.3}", p.unserved_demand_share * 100.0),
            format!("{:.2}", p.peak_shortfall_pods),
            p.scaling_events.to_string(),
        ]);
    }
    format!(
        "{} ({:.1} h, source step {} s, peak {:.1} pods)\n{}\n",
        t.trace.name,
        t.hours,
        t.trace.source_step_seconds,
        t.peak_pods,
        table.trim_fmt()
    )
}

/// A Markdown table of the summaries of several runs, one row per (interpolation,
/// forecaster, policy); reactive does not depend on the forecaster, so it is shown once per
/// interpolation.
pub fn summary_table(runs: &[(&str, &str, &Summary)]) -> String {
    let mut table = service_kit::table::markdown(
        3,
        [
            "interpolation",
            "forecaster",
            "policy",
            "traces",
            "pod-hours",
            "under-prov. min (total)",
            "median under-prov. vs reactive",
            "median pod-hours vs reactive",
            "fewer under-prov. than reactive",
            "better at no extra cost",
            "forecast coverage",
        ],
    );
    let ratio = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |x| format!("{x:.3}"));
    let mut reactive_shown = Vec::new();
    for (how, forecaster, s) in runs {
        for p in &s.policies {
            let reactive = p.policy == Strategy::Reactive;
            if reactive && reactive_shown.contains(how) {
                continue;
            }
            if reactive {
                reactive_shown.push(*how);
            }
            table.add_row([
                (*how).to_owned(),
                if reactive { "-" } else { forecaster }.to_owned(),
                p.policy.name().to_owned(),
                p.traces.to_string(),
                format!("{:.0}", p.total_pod_hours),
                format!("{:.1}", p.total_underprovisioned_minutes),
                ratio(p.median_underprovisioned_vs_reactive),
                ratio(p.median_pod_hours_vs_reactive),
                format!("{}/{}", p.traces_fewer_underprovisioned, p.traces_reactive_short),
                p.traces_better_at_no_extra_cost.to_string(),
                ratio(p.median_forecast_coverage),
            ]);
        }
    }
    format!("{}\n", table.trim_fmt())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::simulate::PolicyResult;
    use crate::trace::Trace;

    fn result(policy: Strategy, pod_hours: f64, under: f64) -> PolicyResult {
        PolicyResult {
            policy,
            pod_hours,
            cost_usd: pod_hours,
            underprovisioned_minutes: under,
            underprovisioned_time_share: 0.0,
            unserved_demand_share: 0.0,
            peak_shortfall_pods: 0.0,
            scaling_events: 0,
            forecast_fallbacks: 0,
            forecast_coverage: None,
            ready_series: vec![],
        }
    }

    fn trace(r: f64, p: f64, p_hours: f64) -> TraceResult {
        TraceResult {
            trace: Trace {
                name: "t".into(),
                source_step_seconds: 60.0,
                step_seconds: 15.0,
                interpolation: forecast::trace::Interpolation::Linear,
                values: vec![],
            },
            hours: 1.0,
            peak_pods: 10.0,
            results: vec![
                result(Strategy::Reactive, 10.0, r),
                result(Strategy::Predictive, p_hours, p),
            ],
        }
    }

    #[test]
    fn summary_medians_and_ratios() {
        let s = summarize(&[trace(10.0, 5.0, 10.0), trace(20.0, 5.0, 12.0), trace(0.0, 1.0, 9.0)]);
        let p = &s.policies[1];
        assert_eq!(p.traces, 3);
        assert_eq!(p.median_underprovisioned_minutes, 5.0);
        // Ratios 0.5 and 0.25 (the trace with 0 reactive minutes is skipped).
        assert_eq!(p.median_underprovisioned_vs_reactive, Some(0.375));
        assert_eq!(p.median_pod_hours_vs_reactive, Some(1.0));
        // Only the first trace is better at equal pod-hours.
        assert_eq!(p.traces_better_at_no_extra_cost, 1);
        assert_eq!((p.traces_fewer_underprovisioned, p.traces_reactive_short), (2, 2));
        let table = summary_table(&[("linear", "oracle", &s), ("linear", "predictor", &s)]);
        let row = |forecaster: &str, policy: &str| {
            table.lines().find(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                cells.get(2) == Some(&forecaster) && cells.get(3) == Some(&policy)
            })
        };
        let oracle = row("oracle", "predictive").unwrap_or_else(|| panic!("{table}"));
        let cells: Vec<&str> = oracle.split('|').map(str::trim).collect();
        assert_eq!(cells[1..5], ["linear", "oracle", "predictive", "3"], "{table}");
        let reactive = table
            .lines()
            .filter(|l| l.split('|').map(str::trim).nth(3) == Some("reactive"));
        assert_eq!(reactive.count(), 1, "{table}");
        assert!(table.lines().nth(1).is_some_and(|l| l.starts_with("|-")), "{table}");
        assert!(trace_table(&trace(1.0, 1.0, 1.0)).contains("reactive"));
    }
}
