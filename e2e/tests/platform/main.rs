//! End to end, on one machine, with real PostgreSQL, Redis and Prometheus: start the
//! platform as `make up` does (own ports, databases and key prefixes), burst load at the
//! catalog while journeys place orders, then check each link of the chain and name the
//! link that broke.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, unreachable_pub)]

mod checks;
mod harness;

use std::time::Duration;

use harness::Platform;

/// The service the burst is aimed at.
const LOADED: &str = "catalog-service";
const SHOP: [&str; 3] = ["user-service", "catalog-service", "order-service"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_moves_the_forecast_the_hpa_query_and_the_scaling_decision() {
    // Arrange: the platform up, every target scraped, a forecast for every shop service.
    let p = Platform::up().await;
    checks::targets_up(&p).await;
    checks::forecasts_exist(&p, &SHOP).await;
    let before = checks::hpa_replicas(&p, LOADED).await;
    let idle = checks::sample_decisions(&p, LOADED, Duration::from_secs(1)).await;
    assert!(
        !idle.iter().any(|d| d == "scale_up"),
        "link 'cost optimizer decision': scale_up for {LOADED} before any load, saw {idle:?}"
    );
    let start = p.prom_time().await;

    // Act: a burst at the catalog, journeys placing orders beside it, and the scaling
    // decision sampled while the burst runs.
    let burst = p.loadgen(
        "burst",
        &[
            "burst",
            "--base",
            "20",
            "--peak",
            // Cached reads come from process memory now and cost about half what they
            // did: at 500/s the catalog's peak sat on the one-pod threshold (0.176 cores
            // against 0.175) and the decision could stay `hold`.
            "1000",
            "--every",
            "20s",
            "--length",
            "15s",
            "--duration",
            "60s",
            "--service",
            "catalog",
            "--seed",
            "--seed-products",
            "20",
        ],
    );
    let journeys = p.loadgen(
        "journeys",
        &[
            "steady",
            "--rps",
            "4",
            "--duration",
            "60s",
            "--scenario",
            "journey",
            "--seed",
            "--seed-products",
            "5",
        ],
    );
    let decisions = checks::sample_decisions(&p, LOADED, Duration::from_secs(75));
    let (burst, journeys, decisions) = tokio::join!(burst, journeys, decisions);
    // Let the last scrapes and a predictor refresh land.
    tokio::time::sleep(Duration::from_secs(8)).await;

    // Assert: every link, each failure naming its link.
    checks::targets_up(&p).await;
    checks::forecast_rose(&p, LOADED, start).await;
    let during = checks::peak_hpa_replicas(&p, LOADED, start).await;
    assert!(
        during > before,
        "link 'adapter query -> HPA formula': replicas during the burst ({during}) not above before ({before})"
    );
    assert!(
        decisions.iter().any(|d| d == "scale_up"),
        "link 'cost optimizer decision': no scale_up for {LOADED} during the burst, saw {decisions:?}"
    );
    assert!(
        burst["total"]["count"].as_u64().unwrap_or(0) > 1000,
        "the burst sent too little: {}",
        burst["total"]
    );
    checks::orders_completed_and_stock_matches(&p, &journeys).await;
    checks::rules_and_dashboards_evaluate(&p).await;
}
