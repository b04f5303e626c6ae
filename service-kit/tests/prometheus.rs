//! The Prometheus test helper really serves backfilled history, and the shared client reads it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use service_kit::testing::PrometheusServer;

#[tokio::test]
async fn backfilled_series_can_be_queried() {
    // Arrange: ten minutes of a counter, one sample a minute, ending a minute ago.
    let end = chrono::Utc::now().timestamp() - 60;
    let mut om = String::from("# TYPE demo_total counter\n");
    for i in 0..10 {
        om.push_str(&format!(
            "demo_total{{service=\"x\"}} {} {}\n",
            i * 60,
            end - (9 - i) * 60
        ));
    }
    om.push_str("# EOF\n");
    let prom = PrometheusServer::start("global:\n  scrape_interval: 15s\n", Some(&om));

    // Act
    let url = format!("{}/api/v1/query?query=demo_total&time={end}", prom.url());
    let body: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();

    // Assert
    assert_eq!(body["data"]["result"][0]["value"][1], "540", "{body}");
}

#[tokio::test]
async fn the_shared_client_reads_vectors_matrices_and_errors() {
    use service_kit::prometheus::{PromError, Prometheus, first_value, first_values, sum_series};

    // Arrange: two pods of one service, a gauge each, one sample a minute for ten minutes
    let end = chrono::Utc::now().timestamp() - 60;
    let mut om = String::from("# TYPE demo_cores gauge\n");
    for i in 0..10 {
        let t = end - (9 - i) * 60;
        om.push_str(&format!("demo_cores{{service=\"x\",pod=\"a\"}} {i} {t}\n"));
        om.push_str(&format!("demo_cores{{service=\"x\",pod=\"b\"}} 0.5 {t}\n"));
    }
    om.push_str("# EOF\n");
    let server = PrometheusServer::start("global:\n  scrape_interval: 15s\n", Some(&om));
    let prom = Prometheus::new(&server.url(), std::time::Duration::from_secs(5)).unwrap();
    let end = end as f64;

    // Act
    let now = prom.instant("sum(demo_cores)", Some(end)).await.unwrap();
    let per_pod = prom.instant("demo_cores", Some(end)).await.unwrap();
    let range = prom.range("demo_cores", end - 540.0, end, 60.0).await.unwrap();
    let none = prom.instant("demo_cores{service=\"nobody\"}", Some(end)).await.unwrap();
    let bad = prom.instant("sum(", None).await.unwrap_err();

    // Assert
    assert_eq!(first_value(&now), Some(9.5));
    assert_eq!(per_pod.len(), 2);
    assert_eq!(sum_series(&per_pod), vec![(end, 9.5)]);
    let pod_a = range.iter().find(|s| s.labels["pod"] == "a").unwrap();
    assert_eq!(pod_a.samples.len(), 10);
    assert_eq!(pod_a.samples[0], (end - 540.0, 0.0));
    let total = sum_series(&range);
    assert_eq!(total.len(), 10);
    assert_eq!(total[9], (end, 9.5));
    assert_eq!(first_values(&range).len(), 10, "the first series");
    assert_eq!(first_value(&none), None);
    assert!(
        matches!(&bad, PromError::Query { status: 400, error_type, .. } if error_type == "bad_data"),
        "{bad:?}"
    );
    assert!(prom.ready().await.is_ok());
}
