//! The fast `--url` path against real servers: every completed request reached the server once,
//! and error answers or dropped connections end as counted errors, never as a hang.

use crate::helpers::{run, spawn};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that counts the requests it answers with `status`.
fn counting(status: StatusCode, seen: Arc<AtomicU64>) -> Router {
    Router::new().route(
        "/",
        get(move || {
            seen.fetch_add(1, Ordering::SeqCst);
            async move { (status, "ok") }
        }),
    )
}

/// Serves raw TCP on a free loopback port: each connection reads one request, then `answer`
/// (possibly empty) is written and the connection closed. Counts the requests read.
async fn raw_server(answer: &'static [u8], seen: Arc<AtomicU64>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                if matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {
                    seen.fetch_add(1, Ordering::SeqCst);
                    let _ = stream.write_all(answer).await;
                }
            });
        }
    });
    format!("http://{addr}/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_completed_request_reached_the_server_once() {
    // Arrange
    let seen = Arc::new(AtomicU64::new(0));
    let base = spawn(counting(StatusCode::OK, seen.clone())).await;

    // Act
    let summary = run(&[
        "steady",
        "--rps",
        "1000",
        "--duration",
        "1s",
        "--url",
        &format!("{base}/"),
    ])
    .await;

    // Assert
    assert_eq!(summary.actions.scheduled, 1000, "{}", summary.table());
    assert_eq!(summary.total.count, seen.load(Ordering::SeqCst), "{}", summary.table());
    assert_eq!(
        summary.total.count + summary.actions.not_started,
        1000,
        "{}",
        summary.table()
    );
    assert_eq!(summary.total.errors, 0, "{}", summary.table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_statuses_are_counted_as_errors() {
    // Arrange
    let seen = Arc::new(AtomicU64::new(0));
    let base = spawn(counting(StatusCode::INTERNAL_SERVER_ERROR, seen.clone())).await;

    // Act
    let summary = run(&[
        "steady",
        "--rps",
        "200",
        "--duration",
        "1s",
        "--url",
        &format!("{base}/"),
    ])
    .await;

    // Assert
    assert_eq!(summary.total.count, 200, "{}", summary.table());
    assert_eq!(summary.total.count, seen.load(Ordering::SeqCst));
    assert_eq!(summary.total.errors, 200);
    assert_eq!(summary.total.errors_by_status["500"], 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_closed_without_an_answer_are_transport_errors() {
    // Arrange: every connection is closed right after its request arrives.
    let seen = Arc::new(AtomicU64::new(0));
    let url = raw_server(b"", seen.clone()).await;

    // Act
    let summary = run(&[
        "steady",
        "--rps",
        "200",
        "--duration",
        "1s",
        "--timeout",
        "2s",
        "--url",
        &url,
    ])
    .await;

    // Assert
    assert_eq!(summary.total.count, 200, "{}", summary.table());
    assert_eq!(summary.total.errors_by_status["transport"], 200, "{}", summary.table());
    assert_eq!(seen.load(Ordering::SeqCst), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_closing_after_each_answer_costs_a_reconnect_not_an_error() {
    // Arrange: one answer per connection, then close, without saying `Connection: close`.
    let seen = Arc::new(AtomicU64::new(0));
    let url = raw_server(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", seen.clone()).await;

    // Act
    let summary = run(&["steady", "--rps", "200", "--duration", "1s", "--url", &url]).await;

    // Assert
    assert_eq!(summary.total.count, 200, "{}", summary.table());
    assert_eq!(summary.total.errors, 0, "{}", summary.table());
    assert_eq!(seen.load(Ordering::SeqCst), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_a_connect_error() {
    // Arrange: a port with nothing listening.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);

    // Act
    let summary = run(&["steady", "--rps", "100", "--duration", "1s", "--url", &url]).await;

    // Assert
    assert_eq!(summary.total.count, 100, "{}", summary.table());
    assert_eq!(summary.total.errors_by_status["connect"], 100, "{}", summary.table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_gives_timeouts() {
    // Arrange: connections are accepted and held open, silently.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });

    // Act
    let summary = run(&[
        "steady",
        "--rps",
        "20",
        "--duration",
        "1s",
        "--timeout",
        "300ms",
        "--url",
        &url,
    ])
    .await;

    // Assert
    assert_eq!(summary.total.count, 20, "{}", summary.table());
    assert_eq!(summary.total.errors_by_status["timeout"], 20, "{}", summary.table());
    assert_eq!(summary.actions.abandoned, 0);
    assert!(summary.total.p50_ms >= 300.0, "{}", summary.table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_target_gets_more_connections_than_the_first_64() {
    // Arrange: 1,000/s at 100 ms each needs about 100 requests in flight.
    let base = spawn(load_generator::bench_target::router()).await;

    // Act
    let summary = run(&[
        "steady",
        "--rps",
        "1000",
        "--duration",
        "2s",
        "--url",
        &format!("{base}/sleep/100"),
    ])
    .await;

    // Assert: with 64 connections all but the first ~64 a second would be held back, and the
    // backlog would push the median far above 100 ms.
    assert_eq!(summary.total.count, 2000, "{}", summary.table());
    assert_eq!(summary.total.errors, 0, "{}", summary.table());
    assert!(summary.actions.held_back < 500, "{}", summary.table());
    assert!(summary.total.p50_ms < 150.0, "{}", summary.table());
}
