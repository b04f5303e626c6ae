//! The one Prometheus HTTP API client of the platform: instant and range queries, the
//! readiness probe, and the PromQL both the predictor and the cost optimizer send
//! ([`queries`]).
//!
//! A result is kept as Prometheus sent it, one [`Series`] per label set with samples as
//! `(unix seconds, value)`; callers then say how several series become one number with
//! [`first_value`], [`first_values`] or [`sum_series`]. Values are parsed as `f64` with
//! `NaN` and `±Inf` kept (Prometheus emits them for 0/0); the helpers drop them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::telemetry::error_chain;

pub mod queries;

pub use queries::{SETUP_ENV, Setup, UsageQueries, label_value, promql_duration};

/// Why Prometheus gave no usable answer. The cause is kept: the transport error as
/// `source()`, and Prometheus's own `errorType` and `error` when it sent them.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    /// No connection, no answer within the timeout, or the answer broke off.
    #[error("prometheus unreachable: {}", transport_reason(.0))]
    Transport(#[source] reqwest::Error),
    /// An HTTP error status whose body is not Prometheus's JSON (a proxy in between, or a
    /// Prometheus too old for the endpoint).
    #[error("prometheus answered HTTP {status}: {body}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// A success status with a body that is not the JSON Prometheus documents.
    #[error("unexpected answer from prometheus: {0}")]
    Json(#[source] serde_json::Error),
    /// Prometheus answered `"status": "error"`: a bad query, too many points, a timeout on
    /// its side.
    #[error("prometheus refused the query (HTTP {status}, {error_type}): {error}")]
    Query {
        /// HTTP status code (400 for a bad query, 422 when it cannot be executed, 503 on
        /// timeout or overload).
        status: u16,
        /// Prometheus's `errorType` (`bad_data`, `execution`, `timeout`, ...).
        error_type: String,
        /// Prometheus's `error` message.
        error: String,
    },
}

/// Why a request did not get through, in one line: "no answer within the timeout", or the
/// error with its causes (the innermost, such as "Connection refused", says the most).
pub fn transport_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer within the timeout".into();
    }
    error_chain(e)
}

/// One series of a result: its labels and its samples `(unix seconds, value)`, oldest first
/// (a single sample for an instant query).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Label names and values (`__name__` included when the query kept it).
    pub labels: BTreeMap<String, String>,
    /// The samples, values as Prometheus sent them (`NaN` and `±Inf` included).
    pub samples: Vec<(f64, f64)>,
}

impl Series {
    /// The finite samples.
    pub fn finite(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.samples.iter().copied().filter(|(_, v)| v.is_finite())
    }
}

/// The first series' first value, `None` when there is no series or that value is not
/// finite: the reading of a query that aggregates to at most one series.
pub fn first_value(series: &[Series]) -> Option<f64> {
    let (_, v) = series.first()?.samples.first()?;
    v.is_finite().then_some(*v)
}

/// The first series' finite values, oldest first; empty when there is no series.
pub fn first_values(series: &[Series]) -> Vec<f64> {
    series
        .first()
        .map(|s| s.finite().map(|(_, v)| v).collect())
        .unwrap_or_default()
}

/// All series summed per timestamp, oldest first, non-finite samples skipped: the reading
/// that keeps a total true when a query returns one series per pod.
pub fn sum_series(series: &[Series]) -> Vec<(f64, f64)> {
    // Timestamps are exact to the millisecond in Prometheus's answers.
    let mut sum: BTreeMap<i64, f64> = BTreeMap::new();
    for (t, v) in series.iter().flat_map(Series::finite) {
        *sum.entry((t * 1000.0).round() as i64).or_insert(0.0) += v;
    }
    sum.into_iter().map(|(ms, v)| (ms as f64 / 1000.0, v)).collect()
}

/// Prometheus' HTTP API at one base URL; cheap to clone.
#[derive(Debug, Clone)]
pub struct Prometheus {
    http: reqwest::Client,
    base: reqwest::Url,
}

impl Prometheus {
    /// A client of the API at `base` (e.g. `http://127.0.0.1:9090`) whose every request
    /// gives up after `timeout`.
    pub fn new(base: &str, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        let base = reqwest::Url::parse(base).map_err(|e| anyhow::anyhow!("invalid prometheus URL {base:?}: {e}"))?;
        Ok(Self { http, base })
    }

    /// `path` under the base URL (which may carry a path prefix), with `params` as query.
    fn url(&self, path: &str, params: &[(&str, String)]) -> reqwest::Url {
        let mut url = self.base.clone();
        url.set_path(&format!("{}{path}", self.base.path().trim_end_matches('/')));
        if !params.is_empty() {
            url.query_pairs_mut().extend_pairs(params);
        }
        url
    }

    /// Instant query at `time` (unix seconds), or at Prometheus's current time when `None`.
    pub async fn instant(&self, query: &str, time: Option<f64>) -> Result<Vec<Series>, PromError> {
        let mut params = vec![("query", query.to_owned())];
        if let Some(t) = time {
            params.push(("time", format!("{t:.3}")));
        }
        self.get("/api/v1/query", &params).await
    }

    /// Range query from `start` to `end` (unix seconds, both included) every `step` seconds.
    pub async fn range(&self, query: &str, start: f64, end: f64, step: f64) -> Result<Vec<Series>, PromError> {
        let params = [
            ("query", query.to_owned()),
            ("start", format!("{start:.3}")),
            ("end", format!("{end:.3}")),
            ("step", format!("{step}")),
        ];
        self.get("/api/v1/query_range", &params).await
    }

    /// `GET /-/ready` answers 200; the reason otherwise, for a readiness check.
    pub async fn ready(&self) -> Result<(), String> {
        let resp = self
            .http
            .get(self.url("/-/ready", &[]))
            .send()
            .await
            .map_err(|e| PromError::Transport(e.without_url()).to_string())?;
        match resp.status().is_success() {
            true => Ok(()),
            false => Err(format!("prometheus is not ready ({})", resp.status())),
        }
    }

    async fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Vec<Series>, PromError> {
        // The URL is dropped from transport errors: its query string would drown the reason.
        let resp = self
            .http
            .get(self.url(path, params))
            .send()
            .await
            .map_err(|e| PromError::Transport(e.without_url()))?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(|e| PromError::Transport(e.without_url()))?;
        parse(status, &body)
    }
}

/// Reads an answer of `/api/v1/query` or `/api/v1/query_range`. Prometheus sends its JSON
/// document with 4xx and 5xx too, and its `error` says more than the status.
fn parse(status: u16, body: &str) -> Result<Vec<Series>, PromError> {
    let doc: Document = match serde_json::from_str(body) {
        Ok(doc) => doc,
        Err(_) if !(200..300).contains(&status) => {
            return Err(PromError::Status {
                status,
                body: body.chars().take(200).collect(),
            });
        }
        Err(e) => return Err(PromError::Json(e)),
    };
    match doc {
        Document::Success { data } => Ok(data.map(Data::into_series).unwrap_or_default()),
        Document::Error { error_type, error } => Err(PromError::Query {
            status,
            error_type,
            error,
        }),
    }
}

/// The envelope of every API answer.
#[derive(Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
enum Document {
    Success {
        #[serde(default)]
        data: Option<Data>,
    },
    Error {
        #[serde(rename = "errorType", default)]
        error_type: String,
        #[serde(default)]
        error: String,
    },
}

/// `data` by `resultType`; scalars and strings are not sent by our queries and read as
/// one unlabelled series.
#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum Data {
    Vector(Vec<RawSeries>),
    Matrix(Vec<RawSeries>),
    Scalar(RawSample),
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    value: Option<RawSample>,
    #[serde(default)]
    values: Vec<RawSample>,
}

/// `[1700000000.5, "0.25"]`: Prometheus encodes values as strings ("NaN" and "+Inf" too).
#[derive(Deserialize)]
struct RawSample(f64, String);

impl RawSample {
    fn parse(self) -> (f64, f64) {
        (self.0, self.1.parse().unwrap_or(f64::NAN))
    }
}

impl Data {
    fn into_series(self) -> Vec<Series> {
        let series = |s: RawSeries| Series {
            labels: s.metric,
            samples: s.value.into_iter().chain(s.values).map(RawSample::parse).collect(),
        };
        match self {
            Data::Vector(v) | Data::Matrix(v) => v.into_iter().map(series).collect(),
            Data::Scalar(s) => vec![Series {
                labels: BTreeMap::new(),
                samples: vec![s.parse()],
            }],
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
