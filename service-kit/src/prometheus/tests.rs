//! Parsing of Prometheus's answers, without a server (the real one is in
//! `service-kit/tests/prometheus.rs`).

use super::*;

fn ok(body: &str) -> Vec<Series> {
    parse(200, body).unwrap()
}

#[test]
fn a_vector_keeps_labels_and_float_times() {
    let s = ok(r#"{"status":"success","data":{"resultType":"vector","result":[
        {"metric":{"pod":"a"},"value":[1700000000.5,"2"]},
        {"metric":{"pod":"b"},"value":[1700000000.5,"NaN"]}]}}"#);
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].labels["pod"], "a");
    assert_eq!(s[0].samples, vec![(1_700_000_000.5, 2.0)]);
    assert!(s[1].samples[0].1.is_nan());
    assert_eq!(first_value(&s), Some(2.0));
    assert_eq!(sum_series(&s), vec![(1_700_000_000.5, 2.0)]);
}

#[test]
fn a_matrix_is_read_per_series_and_summed_per_timestamp() {
    let s = ok(r#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{},"values":[[10,"1.5"],[25,"NaN"],[40,"+Inf"]]},
        {"metric":{},"values":[[10,"0.5"],[25,"2"]]}]}}"#);
    assert_eq!(first_values(&s), vec![1.5], "non-finite values are dropped");
    assert_eq!(sum_series(&s), vec![(10.0, 2.0), (25.0, 2.0)]);
}

#[test]
fn no_series_is_no_value_not_an_error() {
    let s = ok(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#);
    assert_eq!(
        (first_value(&s), first_values(&s), sum_series(&s)),
        (None, vec![], vec![])
    );
    let nan = ok(r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}"#);
    assert_eq!(first_value(&nan), None);
}

#[test]
fn a_scalar_is_one_unlabelled_series() {
    let s = ok(r#"{"status":"success","data":{"resultType":"scalar","result":[5,"3"]}}"#);
    assert_eq!(first_value(&s), Some(3.0));
}

#[test]
fn an_error_document_keeps_type_and_message() {
    let e = parse(
        400,
        r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected \"}\""}"#,
    )
    .unwrap_err();
    match &e {
        PromError::Query {
            status,
            error_type,
            error,
        } => {
            assert_eq!((*status, error_type.as_str()), (400, "bad_data"));
            assert!(error.contains("parse error"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string()
            .starts_with("prometheus refused the query (HTTP 400, bad_data): 1:5"),
        "{e}"
    );
}

#[test]
fn an_error_status_without_json_keeps_status_and_body() {
    let e = parse(502, "<html>bad gateway</html>").unwrap_err();
    assert!(
        matches!(&e, PromError::Status { status: 502, body } if body.contains("bad gateway")),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "prometheus answered HTTP 502: <html>bad gateway</html>");
}

#[test]
fn bad_json_with_a_success_status_keeps_the_parse_error() {
    let e = parse(200, "{\"status\":").unwrap_err();
    assert!(matches!(e, PromError::Json(_)), "{e:?}");
    assert!(std::error::Error::source(&e).is_some());
    assert!(e.to_string().starts_with("unexpected answer from prometheus: "), "{e}");
}

#[test]
fn urls_keep_a_path_prefix_and_encode_the_query() {
    let prom = Prometheus::new("http://127.0.0.1:9090/prom/", Duration::from_secs(1)).unwrap();
    let url = prom.url("/api/v1/query", &[("query", r#"up{job="a b"}"#.to_owned())]);
    assert_eq!(
        url.as_str(),
        "http://127.0.0.1:9090/prom/api/v1/query?query=up%7Bjob%3D%22a+b%22%7D"
    );
    assert!(Prometheus::new("not a url", Duration::from_secs(1)).is_err());
}

#[tokio::test]
async fn a_refused_connection_says_so_once() {
    // Arrange: a port nobody listens on
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let prom = Prometheus::new(&format!("http://127.0.0.1:{port}"), Duration::from_secs(2)).unwrap();

    // Act
    let e = prom.instant("up", None).await.unwrap_err();

    // Assert: the cause is named, the query string is not, and the chain repeats nothing
    let text = e.to_string();
    assert!(matches!(e, PromError::Transport(_)), "{e:?}");
    assert!(
        text.starts_with("prometheus unreachable: ") && !text.contains("query="),
        "{text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");
    assert_eq!(error_chain(&e), text);
    assert!(prom.ready().await.unwrap_err().starts_with("prometheus unreachable"));
}
