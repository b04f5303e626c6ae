//! Rate accuracy, known latency, and coordinated-omission correction.

use crate::helpers::{run, spawn};
use axum::Router;
use axum::routing::get;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_run_achieves_the_target_rate() {
    // Arrange
    let base = spawn(load_generator::bench_target::router()).await;

    // Act
    let summary = run(&[
        "steady",
        "--rps",
        "200",
        "--duration",
        "2s",
        "--url",
        &format!("{base}/"),
    ])
    .await;

    // Assert
    assert_eq!(summary.actions.scheduled, 400);
    assert_eq!(summary.total.errors, 0, "{}", summary.table());
    assert!((summary.total.rate - 200.0).abs() <= 20.0, "{}", summary.table());
    assert_eq!(summary.endpoints.len(), 1);
    assert_eq!(summary.endpoints[0].endpoint, "GET /");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn median_matches_a_known_server_latency() {
    // Arrange: every answer takes 100 ms (tokio's millisecond timer in the server adds up to ~1 ms).
    let base = spawn(load_generator::bench_target::router()).await;

    // Act
    let summary = run(&[
        "steady",
        "--rps",
        "50",
        "--duration",
        "2s",
        "--url",
        &format!("{base}/sleep/100"),
    ])
    .await;

    // Assert
    let p50 = summary.total.p50_ms;
    assert!((100.0..=110.0).contains(&p50), "p50 {p50} ms\n{}", summary.table());
    assert_eq!(summary.endpoints[0].endpoint, "GET /sleep/100");
}

/// A server whose one request, the first after 0.5 s, stalls for 500 ms.
fn stalls_once() -> axum::Router {
    let started = Instant::now();
    let stalled = Arc::new(AtomicBool::new(false));
    Router::new().route(
        "/",
        get(move || {
            let stalled = stalled.clone();
            async move {
                if started.elapsed() >= Duration::from_millis(500) && !stalled.swap(true, Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                "ok"
            }
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_shows_in_the_high_percentiles_even_when_sending_is_blocked() {
    // Arrange: with one request in flight at most, sending is effectively closed-loop, so the
    // ~100 requests due during the stall go out late; only measuring from the due time shows it.
    // Measured from the send time they would be fast, and one slow sample in 400 sits above p99.
    let base = spawn(stalls_once()).await;

    // Act
    let summary = run(&[
        "steady",
        "--rps",
        "200",
        "--duration",
        "2s",
        "--max-in-flight",
        "1",
        "--url",
        &format!("{base}/"),
    ])
    .await;

    // Assert
    assert!(summary.actions.held_back >= 50, "{}", summary.table());
    assert!(
        summary.total.p99_ms >= 400.0,
        "p99 {} ms\n{}",
        summary.total.p99_ms,
        summary.table()
    );
    assert!(
        summary.total.p90_ms >= 100.0,
        "p90 {} ms\n{}",
        summary.total.p90_ms,
        summary.table()
    );
    assert!(summary.total.max_ms >= 480.0, "{}", summary.table());
    assert!(
        summary.total.p50_ms < 50.0,
        "the stall is a tail, not the median\n{}",
        summary.table()
    );
}
