//! The Prometheus test helper really serves backfilled history.

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
