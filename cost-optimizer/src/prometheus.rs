//! A small client for Prometheus' HTTP API: instant and range queries that return plain numbers.
//!
//! Only the first series of a result is read, because every query this service sends is an
//! aggregation (`sum`, `count`) that yields at most one. An empty result is `None` or an empty
//! list (the series does not exist), which is not an error: the service may just not be running.

use std::time::Duration;

use serde::Deserialize;

/// Why Prometheus could not answer. Every variant means "usage unknown", so callers report the
/// message rather than branch on it.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    /// No connection, or no answer within the timeout.
    #[error("prometheus unreachable: {}", transport_error(.0))]
    Unreachable(#[source] reqwest::Error),
    /// Prometheus answered with an error (bad query, overload, ...).
    #[error("prometheus answered {status}: {detail}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Prometheus' `error` field or the body.
        detail: String,
    },
    /// The answer was not the JSON Prometheus documents.
    #[error("unexpected answer from prometheus: {0}")]
    Malformed(String),
}

/// Prometheus' HTTP API at one base URL.
#[derive(Debug, Clone)]
pub struct Prometheus {
    client: reqwest::Client,
    base: String,
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    result: Vec<Series>,
}

#[derive(Deserialize)]
struct Series {
    #[serde(default)]
    value: Option<(f64, String)>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

impl Prometheus {
    /// A client whose every request gives up after `timeout`.
    pub fn new(base: &str, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// The value of an instant query at `time` (unix seconds), `None` when no series matches or
    /// the value is not finite (a rate over too few samples).
    pub async fn instant(&self, query: &str, time: f64) -> Result<Option<f64>, PromError> {
        let params = [("query", query.to_owned()), ("time", format!("{time:.3}"))];
        let data = self.get("/api/v1/query", &params).await?;
        let value = data.result.into_iter().next().and_then(|s| s.value);
        Ok(value.and_then(|(_, v)| finite(&v)))
    }

    /// The finite values of a range query over [start, end] every `step` seconds.
    pub async fn range(&self, query: &str, start: f64, end: f64, step: f64) -> Result<Vec<f64>, PromError> {
        let params = [
            ("query", query.to_owned()),
            ("start", format!("{start:.3}")),
            ("end", format!("{end:.3}")),
            ("step", format!("{step}")),
        ];
        let data = self.get("/api/v1/query_range", &params).await?;
        let series = data.result.into_iter().next();
        Ok(series
            .map(|s| s.values.iter().filter_map(|(_, v)| finite(v)).collect())
            .unwrap_or_default())
    }

    /// `GET /-/ready`, for this service's own readiness.
    pub async fn ready(&self) -> Result<(), String> {
        let resp = self
            .client
            .get(format!("{}/-/ready", self.base))
            .send()
            .await
            .map_err(|e| PromError::Unreachable(e).to_string())?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("prometheus is not ready ({})", resp.status()))
        }
    }

    async fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Data, PromError> {
        let url = reqwest::Url::parse_with_params(&format!("{}{path}", self.base), params)
            .map_err(|e| PromError::Malformed(format!("invalid prometheus URL {}: {e}", self.base)))?;
        let resp = self.client.get(url).send().await.map_err(PromError::Unreachable)?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(PromError::Unreachable)?;
        let envelope: Envelope = serde_json::from_str(&body).map_err(|_| PromError::Api {
            status,
            detail: body.chars().take(200).collect(),
        })?;
        match (envelope.status.as_str(), envelope.data) {
            ("success", Some(data)) => Ok(data),
            ("success", None) => Err(PromError::Malformed("success without data".into())),
            _ => Err(PromError::Api {
                status,
                detail: envelope.error.unwrap_or_else(|| "no error message".into()),
            }),
        }
    }
}

/// The innermost cause of a transport error ("Connection refused"), which says more than
/// reqwest's "error sending request for url (...)".
pub fn transport_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer within the timeout".into();
    }
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// Prometheus encodes sample values as strings ("NaN" and "+Inf" included).
fn finite(v: &str) -> Option<f64> {
    v.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Quotes a label value for PromQL (backslash and double quote escaped), so that a service name
/// from a pricing file cannot change the query.
pub fn label_value(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A duration in PromQL syntax, whole seconds (PromQL rejects fractions).
pub fn promql_duration(d: Duration) -> String {
    format!("{}s", d.as_secs().max(1))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_value("catalog-service"), "\"catalog-service\"");
        assert_eq!(label_value("a\"}or vector(1)"), "\"a\\\"}or vector(1)\"");
    }

    #[test]
    fn non_finite_values_are_dropped() {
        assert_eq!(finite("0.25"), Some(0.25));
        assert_eq!(finite("NaN"), None);
        assert_eq!(finite("+Inf"), None);
    }

    #[test]
    fn vector_and_matrix_answers_parse() {
        let v: Envelope = serde_json::from_str(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.5,"2"]}]}}"#,
        )
        .unwrap();
        assert_eq!(v.data.unwrap().result[0].value.as_ref().unwrap().1, "2");
        let m: Envelope = serde_json::from_str(
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"3"]]}]}}"#,
        )
        .unwrap();
        assert_eq!(m.data.unwrap().result[0].values.len(), 2);
    }
}
