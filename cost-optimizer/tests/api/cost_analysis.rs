//! `/cost-analysis` against a real Prometheus, checked against figures computed by hand from
//! the backfilled history, and the gauges it leaves on `/metrics`.

use crate::helpers::*;

const CPU_PRICE: f64 = 0.031611;
const MEMORY_PRICE: f64 = 0.004237;

#[tokio::test]
async fn cost_analysis_matches_the_backfilled_usage() {
    // Arrange
    let usage = start_usage().await;
    let app = spawn_app(config(&usage.prometheus.url(), &closed_url())).await;

    // Act
    let (status, idle) = app.get("/cost-analysis/user-service").await;
    let before = unix_now();
    let (_, burst) = app.get("/cost-analysis/catalog-service").await;
    let after = unix_now();
    let (_, all) = app.get("/cost-analysis/all").await;
    let metrics = app.metrics().await;

    // Assert: the idle service, exactly (2 small pods: 0.5 cores and 0.5 GiB requested)
    assert_eq!(status, 200, "{idle}");
    assert_eq!(idle["replicas"], 2);
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    let idle_cpu = 2.0 * IDLE_CORES;
    let idle_mem_gib = 2.0 * IDLE_MEMORY_BYTES / (1024.0 * 1024.0 * 1024.0);
    assert_close(f(&idle["usage"]["mean"]["cpu_cores"]), idle_cpu, 0.01, "idle mean cpu");
    assert_close(f(&idle["usage"]["p95"]["cpu_cores"]), idle_cpu, 0.01, "idle p95 cpu");
    assert_close(
        f(&idle["usage"]["mean"]["memory_gib"]),
        idle_mem_gib,
        1e-9,
        "idle memory",
    );
    assert_close(f(&idle["requests"]["cpu_cores"]), 0.5, 1e-12, "requests");
    let hourly_cpu = 0.5 * CPU_PRICE;
    let hourly_mem = 0.5 * MEMORY_PRICE;
    assert_close(f(&idle["cost"]["hourly"]["cpu"]), hourly_cpu, 1e-9, "hourly cpu cost");
    assert_close(
        f(&idle["cost"]["hourly"]["total"]),
        hourly_cpu + hourly_mem,
        1e-9,
        "hourly cost",
    );
    assert_close(
        f(&idle["cost"]["monthly"]["total"]),
        (hourly_cpu + hourly_mem) * 730.0,
        1e-9,
        "monthly",
    );
    assert_close(
        f(&idle["idle"]["hourly"]["cpu"]),
        (0.5 - idle_cpu) * CPU_PRICE,
        0.01,
        "idle cpu cost",
    );
    assert_close(f(&idle["efficiency"]["cpu"]), idle_cpu / 0.5, 0.01, "cpu efficiency");
    // p95 per pod 0.05 cores / 0.7 target = 0.071 cores and 100 MiB: micro fits.
    assert_eq!(idle["right_sizing"]["recommended_tier"], "micro", "{idle}");
    let micro_monthly = (0.2 * CPU_PRICE + 0.25 * MEMORY_PRICE) * 730.0;
    assert_close(
        f(&idle["right_sizing"]["monthly_saving"]),
        (hourly_cpu + hourly_mem) * 730.0 - micro_monthly,
        0.001,
        "saving",
    );

    // Assert: the burst. Its p95 is the burst itself (more than 5 % of the window's points).
    assert_close(
        f(&burst["usage"]["p95"]["cpu_cores"]),
        2.0 * BURST_CORES,
        0.01,
        "burst p95",
    );
    // Its mean: the hour ending at the request, one point a minute (61 points), each point
    // the 3-minute rate, which ramps from 0.1 to 1.5 cores over the 3 minutes after the burst.
    let end = (before + after) / 2.0;
    let points: Vec<f64> = (0..=60)
        .map(|k| {
            usage
                .shapes
                .total_rate("catalog-service", end - 3600.0 + 60.0 * f64::from(k))
        })
        .collect();
    let expected_mean = points.iter().sum::<f64>() / points.len() as f64;
    assert!(
        expected_mean > 0.3 && expected_mean < 0.4,
        "the burst is about 10 min of 60"
    );
    assert_close(
        f(&burst["usage"]["mean"]["cpu_cores"]),
        expected_mean,
        0.02,
        "burst mean cpu",
    );
    assert_close(
        f(&burst["usage"]["mean"]["memory_gib"]),
        2.0 * BURST_MEMORY_BYTES / (1024.0 * 1024.0 * 1024.0),
        1e-9,
        "burst memory",
    );
    // p95 per pod 0.75 / 0.7 = 1.07 cores: only xlarge holds it.
    assert_eq!(burst["right_sizing"]["recommended_tier"], "xlarge", "{burst}");

    // Assert: all services, with totals over the two that run (the others have no replicas)
    let services = all["services"].as_array().unwrap();
    assert_eq!(services.len(), 5);
    let sum: f64 = services.iter().map(|s| f(&s["cost"]["hourly"]["total"])).sum();
    assert_close(f(&all["totals"]["cost"]["hourly"]["total"]), sum, 1e-9, "totals");
    assert_close(sum, 2.0 * (hourly_cpu + hourly_mem), 1e-6, "two services cost");

    // Assert: the gauges on /metrics
    let cost = gauge(&metrics, "cost_per_hour_usd", "user-service");
    assert_close(cost, hourly_cpu + hourly_mem, 1e-9, "cost_per_hour_usd");
    let efficiency = gauge(&metrics, "cost_efficiency_ratio", "catalog-service");
    assert_close(efficiency, f(&burst["efficiency"]["cpu"]), 0.1, "cost_efficiency_ratio");
}
