//! `/scaling-decision` with a real predictor forecasting from the backfilled Prometheus: scale
//! up during the burst, hold when idle, and fall back (saying so) once the predictor stops.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;

/// Starts the predictor on port 0 against `prometheus_url`; returns its URL, the sender that
/// stops it and the task serving it.
async fn start_predictor(
    prometheus_url: &str,
) -> (String, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    // The predictor's demand query, with the tests' rate window instead of its default 1m, so
    // that it sees the same usage as the cost optimizer across the gap before the live scrape.
    let query = format!(
        "sum(rate(process_cpu_seconds_total{{service=\"{{service}}\"}}[{}s]))",
        RATE_WINDOW.as_secs()
    );
    let overrides = serde_json::json!({
        "catalog-service": { "demand_query": query },
        "user-service": { "demand_query": query },
    });
    let path = std::env::temp_dir().join(format!("predictor-services-{}.json", service_kit::testing::free_port()));
    std::fs::write(&path, overrides.to_string()).unwrap();
    let config = predictor_service::Config {
        port: 0,
        prometheus_url: prometheus_url.to_owned(),
        services: vec!["catalog-service".into(), "user-service".into()],
        history_seconds: 2 * 3600,
        refresh: Duration::from_secs(1),
        service_config: Some(path.clone()),
        auth: service_kit::auth::AuthArgs::with_secret(service_kit::testing::AUTH_SECRET),
        ..predictor_service::Config::default()
    };
    let server = predictor_service::build(config).await.expect("build predictor-service");
    // The file is read by `build`.
    let _ = std::fs::remove_file(&path);
    let url = format!("http://127.0.0.1:{}", server.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = server
            .run(async {
                let _ = stopped.await;
            })
            .await;
    });
    (url, stop, task)
}

/// Waits until the predictor has a real (non-fallback) forecast for `service` from data that
/// reaches the live scrape: its latest demand must be `current_cores` (the grid points between
/// the history and the first live samples read low until then).
async fn forecast_ready(predictor: &str, service: &str, current_cores: f64) -> Value {
    let url = format!("{predictor}/predict/{service}");
    eventually(Duration::from_secs(15), "a forecast", || {
        let url = url.clone();
        async move {
            let resp = reqwest::get(&url).await.map_err(|e| e.to_string())?;
            let body: Value = resp.json().await.map_err(|e| e.to_string())?;
            let current = body["current_cores"].as_f64().unwrap_or(f64::NAN);
            let caught_up = (current - current_cores).abs() < 0.02 * current_cores;
            if body["fallback"] == false && body["predicted_cores_upper"].is_number() && caught_up {
                Ok(body)
            } else {
                Err(body.to_string())
            }
        }
    })
    .await
}

#[tokio::test]
async fn decisions_follow_the_forecast_and_fall_back_without_the_predictor() {
    // Arrange
    let usage = start_usage().await;
    let prom = &usage.prometheus;
    let (predictor, stop, serving) = start_predictor(&prom.url()).await;
    let burst_forecast = forecast_ready(&predictor, "catalog-service", 2.0 * BURST_CORES).await;
    forecast_ready(&predictor, "user-service", 2.0 * IDLE_CORES).await;
    let app = spawn_app(config(&prom.url(), &predictor)).await;

    // Act
    let (status, burst) = app.get("/scaling-decision/catalog-service").await;
    let (_, idle) = app.get("/scaling-decision/user-service").await;

    // Assert: the burst (1.5 cores on 2 small pods serving 0.175 cores each at target) scales up
    assert_eq!(status, 200, "{burst}");
    assert_eq!(burst["action"], "scale_up", "{burst}\nforecast: {burst_forecast}");
    assert_eq!(burst["fallback"], false, "{burst}");
    assert_eq!(burst["outcome"]["source"], "forecast");
    assert_eq!(burst["predictor"]["ok"], true, "{burst}");
    assert_eq!(burst["current_replicas"], 2);
    // The rule's replicas from the upper bound it was given (the predictor refreshes every
    // second, so the figure fetched above may have moved on)
    let upper = burst["inputs"]["observed"]["forecast"]["upper_cores"].as_f64().unwrap();
    assert!(
        upper > 0.35 * 1.1,
        "a burst forecast above the capacity of 2 pods: {upper}"
    );
    let needed = ((upper / (0.25 * 0.7)).ceil() as u64).clamp(2, 10);
    assert_eq!(burst["recommended_replicas"], needed, "{burst}");
    assert_eq!(burst["outcome"]["demand_cores"], upper);
    assert!(burst["impact"]["per_hour"].as_f64().unwrap() > 0.0, "{burst}");
    // The idle service (0.1 cores, under the 2-replica minimum's capacity) holds
    assert_eq!(idle["action"], "hold", "{idle}");
    assert_eq!(idle["fallback"], false, "{idle}");
    assert_eq!(idle["recommended_replicas"], 2);

    // Arrange: stop the predictor
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .expect("predictor stops")
        .unwrap();

    // Act
    let (status, burst) = app.get("/scaling-decision/catalog-service").await;
    let (_, idle) = app.get("/scaling-decision/user-service").await;

    // Assert: both fall back to current usage and say why; the burst still scales up on it
    assert_eq!(status, 200, "{burst}");
    for d in [&burst, &idle] {
        assert_eq!(d["fallback"], true, "{d}");
        assert_eq!(d["outcome"]["source"], "current_usage", "{d}");
        assert_eq!(d["predictor"]["ok"], false, "{d}");
        assert_eq!(d["prometheus"]["ok"], true, "{d}");
        assert_eq!(d["slo_risk"], "medium", "{d}");
        let first = d["reasoning"][0].as_str().unwrap();
        assert!(
            first.contains("No forecast is available (predictor unreachable"),
            "{first}"
        );
    }
    assert_eq!(burst["action"], "scale_up", "{burst}");
    // 1.5 cores / 0.175 per pod = 8.6 -> 9
    assert_eq!(burst["recommended_replicas"], 9, "{burst}");
    assert_eq!(idle["action"], "hold", "{idle}");
}
