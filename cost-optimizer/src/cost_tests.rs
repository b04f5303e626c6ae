//! Worked examples for the cost formulas (numbers checked by hand in the comments).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::Error;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn usage(mean_cpu: f64, mean_gib: f64, p95_cpu: f64, p95_gib: f64) -> UsageStats {
    UsageStats {
        mean: Resources {
            cpu_cores: mean_cpu,
            memory_gib: mean_gib,
        },
        p95: Resources {
            cpu_cores: p95_cpu,
            memory_gib: p95_gib,
        },
    }
}

#[test]
fn charges_max_of_request_and_usage() {
    let p = Pricing::default();
    let req = Resources {
        cpu_cores: 2.0,
        memory_gib: 2.0,
    };
    // CPU under request is charged at the request, memory over request at usage.
    let c = hourly_cost(
        &p,
        req,
        Resources {
            cpu_cores: 1.0,
            memory_gib: 2.5,
        },
    );
    assert!(close(c.cpu, 2.0 * 0.031611));
    assert!(close(c.memory, 2.5 * 0.004237));
    assert!(close(c.total, 0.063222 + 0.0105925));
    let idle = idle_hourly_cost(
        &p,
        req,
        Resources {
            cpu_cores: 1.0,
            memory_gib: 2.5,
        },
    );
    assert!(close(idle.cpu, 0.031611));
    assert_eq!(idle.memory, 0.0);
}

#[test]
fn analysis_of_an_oversized_service() {
    // order-service: medium (0.5 core, 512 MiB) x 4 = 2 cores, 2 GiB requested.
    let m = CostModel::default();
    let a = analyze(&m, "order-service", 4, usage(1.0, 0.6, 0.6, 0.8)).unwrap();
    assert_eq!(
        a.requests,
        Resources {
            cpu_cores: 2.0,
            memory_gib: 2.0
        }
    );
    // 2 x 0.031611 + 2 x 0.004237 = 0.071696 USD/h
    assert!(close(a.cost.hourly.total, 0.071696));
    assert!(close(a.cost.daily.total, 0.071696 * 24.0));
    assert!(close(a.cost.monthly.total, 52.33808));
    assert!(close(a.cost.monthly.cpu + a.cost.monthly.memory, a.cost.monthly.total));
    // idle: 1 core and 1.4 GiB unused = 0.031611 + 0.0059318
    assert!(close(a.idle.hourly.total, 0.0375428));
    assert!(close(a.efficiency.cpu.unwrap(), 0.5));
    assert!(close(a.efficiency.memory.unwrap(), 0.3));
    // p95 per pod 0.15 core / 0.7 = 0.214 core, 204.8 MiB -> small (0.25, 256)
    let r = &a.right_sizing;
    assert_eq!(
        (r.current_tier.as_str(), r.recommended_tier.as_str(), r.fits),
        ("medium", "small", true)
    );
    assert!(close(r.needed_cpu_cores_per_pod, 0.15 / 0.7));
    assert!(close(r.needed_memory_mib_per_pod, 204.8));
    // small x 4 = 1 core, 1 GiB: 0.035848 USD/h = 26.16904 per month, half of today.
    assert!(close(r.monthly_cost_after, 26.16904));
    assert!(close(r.monthly_saving, 26.16904));
}

#[test]
fn undersized_service_gets_a_bigger_tier_and_a_negative_saving() {
    let m = CostModel::default();
    // user-service: small x 2; p95 0.8 core total = 0.4 per pod / 0.7 = 0.571 -> large.
    let a = analyze(&m, "user-service", 2, usage(0.5, 0.2, 0.8, 0.3)).unwrap();
    assert_eq!(a.right_sizing.recommended_tier, "large");
    assert!(a.right_sizing.monthly_saving < 0.0);
    // Nothing holds 10 cores per pod: the largest tier, flagged.
    let a = analyze(&m, "user-service", 1, usage(5.0, 0.2, 10.0, 0.3)).unwrap();
    assert_eq!(
        (a.right_sizing.recommended_tier.as_str(), a.right_sizing.fits),
        ("xlarge", false)
    );
}

#[test]
fn zero_replicas_has_no_efficiency_and_unknown_service_fails() {
    let m = CostModel::default();
    let a = analyze(&m, "user-service", 0, usage(0.0, 0.0, 0.0, 0.0)).unwrap();
    assert_eq!(a.efficiency.cpu, None);
    assert_eq!(a.cost.hourly.total, 0.0);
    assert!(matches!(
        analyze(&m, "nope", 1, UsageStats::default()),
        Err(Error::UnknownService(_))
    ));
}

#[test]
fn totals_add_up() {
    let m = CostModel::default();
    let a = analyze(&m, "order-service", 4, usage(1.0, 0.6, 0.6, 0.8)).unwrap();
    let b = analyze(&m, "user-service", 2, usage(0.1, 0.1, 0.1, 0.1)).unwrap();
    let t = totals(&[a.clone(), b.clone()]);
    assert!(close(t.cost.hourly.total, a.cost.hourly.total + b.cost.hourly.total));
    assert!(close(t.cost.monthly.total, t.cost.hourly.total * 730.0));
    assert!(close(
        t.monthly_saving,
        a.right_sizing.monthly_saving + b.right_sizing.monthly_saving
    ));
}

#[test]
fn statistics_helpers() {
    let v: Vec<f64> = (1..=100).map(f64::from).collect();
    assert_eq!(percentile(&v, 0.95), Some(95.0));
    assert_eq!(percentile(&[5.0, 1.0, 3.0], 0.5), Some(3.0));
    assert_eq!(percentile(&[], 0.95), None);
    assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
    assert_eq!(mean(&[]), None);
}
