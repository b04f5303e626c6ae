//! The series the HPA reads: the lead-time peak at the service's quantile, on backfilled
//! history, with its quantile, coverage and serving candidate beside it.

use std::time::Duration;

use serde_json::{Value, json};
use service_kit::testing::PrometheusServer;

use crate::helpers::{
    PROMETHEUS_CONFIG, backfill_demand, metric_value, openmetrics, service_config_file, spawn_app_with,
};

/// An `irate` demand query (see `irate_service_config`: a backfill that stopped in the past
/// sags under `rate`) and a fixed request of 0.25 cores per pod.
fn entry(quantile: Option<f64>) -> Value {
    let mut e = json!({
        "demand_query": "sum(irate(process_cpu_seconds_total{service=\"{service}\"}[1m]))",
        "cpu_request_cores": 0.25,
    });
    if let Some(q) = quantile {
        e["quantile"] = json!(q);
    }
    e
}

/// Waits until the service's peak is calibrated and returns `/predict/{service}`.
async fn calibrated(app: &crate::helpers::TestApp, service: &str) -> Value {
    app.wait_for(&format!("/predict/{service}"), Duration::from_secs(20), |b| {
        b["peak"]["fallback"] == false
    })
    .await
}

#[tokio::test]
async fn the_hpa_series_is_the_peak_over_the_lead_time_at_or_above_the_last_demand() {
    // Arrange: three hours rising from 0.2 to 0.6 cores on 2 pods of 0.25 cores, ending 90 s
    // ago (backfill refuses samples that are too recent)
    let end = chrono::Utc::now().timestamp() - 90;
    let steps = 3 * 3600 / 15;
    let ramp = |i: usize| 0.2 + 0.4 * i as f64 / steps as f64;
    let data = openmetrics(&[backfill_demand("ramp-service", end, 3 * 3600, ramp)]);
    let prom = PrometheusServer::start(PROMETHEUS_CONFIG, Some(&data));
    let config = service_config_file("ramp", &json!({"ramp-service": entry(None)}));
    let app = spawn_app_with(&prom.url(), &["ramp-service"], Some(config)).await;

    // Act
    let p = calibrated(&app, "ramp-service").await;

    // Assert: the peak covers the last observed demand (a rising series only goes up over
    // the lead time) and is what the HPA's series carry
    let peak = &p["peak"];
    let cores = peak["peak_cores"].as_f64().unwrap();
    let current = p["current_cores"].as_f64().unwrap();
    assert!((current - ramp(steps)).abs() < 0.01, "{p}");
    assert!(cores >= current, "peak {cores} below the last demand {current}: {p}");
    assert!(cores >= peak["point_cores"].as_f64().unwrap(), "{p}");
    assert_eq!(
        (peak["quantile"].as_f64(), peak["lead_seconds"].as_i64()),
        (Some(0.9), Some(150))
    );
    assert!(
        peak["coverage"].as_f64().is_some_and(|c| (0.0..=1.0).contains(&c)),
        "{p}"
    );
    assert!(peak["errors"].as_u64().unwrap() >= 30, "{p}");
    let util = peak["peak_utilization"].as_f64().unwrap();
    assert!((util - cores / 0.5 * 100.0).abs() < 1e-6, "{p}");
    let model = peak["model"].as_str().unwrap();

    // The gauges are refreshed every second: read them and the JSON of the same refresh.
    let labels = "{service=\"ramp-service\"}";
    let metrics = app.metrics().await;
    let now = app.get_json("/predict/ramp-service").await;
    let exported = metric_value(&metrics, &format!("predicted_cpu_cores{labels}")).unwrap();
    assert!(exported >= current, "{exported} < {current}");
    assert!(
        (exported - now["peak"]["peak_cores"].as_f64().unwrap()).abs() < 0.02,
        "{exported} vs {now}"
    );
    let exported_util = metric_value(&metrics, &format!("predicted_cpu_utilization{labels}")).unwrap();
    assert!((exported_util - exported / 0.5 * 100.0).abs() < 4.0, "{exported_util}");
    assert_eq!(
        metric_value(&metrics, &format!("predictor_peak_quantile{labels}")),
        Some(0.9)
    );
    assert!(metric_value(&metrics, &format!("predictor_peak_coverage{labels}")).is_some());
    assert_eq!(
        metric_value(&metrics, &format!("predictor_fallback{labels}")),
        Some(0.0)
    );
    let info = format!("predictor_peak_model_info{{service=\"ramp-service\",model=\"{model}\"}}");
    assert_eq!(metric_value(&metrics, &info), Some(1.0), "{metrics}");
}

#[tokio::test]
async fn a_higher_per_service_quantile_exports_a_higher_peak() {
    // Arrange: two services with the same noisy staircase (a level change every 20 minutes,
    // jitter of up to 0.12 cores every 15 s), one served at the median, one at 0.99
    let end = chrono::Utc::now().timestamp() - 90;
    let stairs = |i: usize| 0.3 + 0.1 * ((i / 80) % 4) as f64 + 0.01 * ((i * 7919) % 13) as f64;
    let data = openmetrics(&[
        backfill_demand("median-service", end, 3 * 3600, stairs),
        backfill_demand("cautious-service", end, 3 * 3600, stairs),
    ]);
    let prom = PrometheusServer::start(PROMETHEUS_CONFIG, Some(&data));
    let config = service_config_file(
        "quantiles",
        &json!({"median-service": entry(Some(0.5)), "cautious-service": entry(Some(0.99))}),
    );
    let app = spawn_app_with(&prom.url(), &["median-service", "cautious-service"], Some(config)).await;

    // Act
    let low = calibrated(&app, "median-service").await;
    let high = calibrated(&app, "cautious-service").await;

    // Assert: each serves its own quantile, and the same history at a higher quantile gives
    // a higher peak (more headroom bought)
    assert_eq!(low["peak"]["quantile"], 0.5, "{low}");
    assert_eq!(high["peak"]["quantile"], 0.99, "{high}");
    let (lo, hi) = (
        low["peak"]["peak_cores"].as_f64().unwrap(),
        high["peak"]["peak_cores"].as_f64().unwrap(),
    );
    assert_eq!(low["current_cores"], high["current_cores"], "same history");
    assert!(hi > lo, "peak at 0.99 {hi} not above the median's {lo}: {low} {high}");
    let metrics = app.metrics().await;
    let quantile = |s: &str| metric_value(&metrics, &format!("predictor_peak_quantile{{service=\"{s}\"}}"));
    assert_eq!(
        (quantile("median-service"), quantile("cautious-service")),
        (Some(0.5), Some(0.99))
    );
    let cores = |s: &str| metric_value(&metrics, &format!("predicted_cpu_cores{{service=\"{s}\"}}")).unwrap();
    assert!(cores("cautious-service") > cores("median-service"), "{metrics}");
}
