//! A small client of the Prometheus HTTP API: range and instant queries, and the readiness
//! probe. Results with several series are summed per timestamp (queries are expected to
//! aggregate already; summing is the only reading that keeps "total demand" true), and
//! non-finite samples (`NaN`, `+Inf`, which Prometheus emits for 0/0) are dropped.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

/// Why a Prometheus call gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    /// No connection, timeout or non-JSON answer: Prometheus is unreachable.
    #[error("prometheus unreachable: {0}")]
    Unreachable(String),
    /// Prometheus answered with an error (bad query, too many points).
    #[error("prometheus refused the query: {0}")]
    Query(String),
}

/// Prometheus API client; cheap to clone.
#[derive(Debug, Clone)]
pub struct Prometheus {
    http: reqwest::Client,
    base: String,
}

#[derive(Debug, Deserialize)]
struct ApiResponse {
    status: String,
    #[serde(default)]
    data: Option<ApiData>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ApiData {
    #[serde(default)]
    result: Vec<ApiSeries>,
}

#[derive(Debug, Deserialize)]
struct ApiSeries {
    #[serde(default)]
    values: Vec<(f64, String)>,
    #[serde(default)]
    value: Option<(f64, String)>,
}

impl Prometheus {
    /// A client of the API at `base` (e.g. `http://127.0.0.1:9090`).
    pub fn new(base: &str, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// `query_range` from `start` to `end` (Unix seconds): `(timestamp, value)` points, oldest
    /// first; empty when the query matches nothing.
    pub async fn range(&self, query: &str, start: i64, end: i64, step: i64) -> Result<Vec<(i64, f64)>, PromError> {
        let params = [
            ("query", query.to_owned()),
            ("start", start.to_string()),
            ("end", end.to_string()),
            ("step", step.to_string()),
        ];
        let data = self.call("/api/v1/query_range", &params).await?;
        let series = data.result.into_iter().map(|s| s.values);
        Ok(sum_points(series))
    }

    /// Instant query at the current time: the value (summed over series), `None` when the
    /// query matches nothing.
    pub async fn instant(&self, query: &str) -> Result<Option<f64>, PromError> {
        let data = self.call("/api/v1/query", &[("query", query.to_owned())]).await?;
        let series = data.result.into_iter().map(|s| s.value.into_iter().collect());
        Ok(sum_points(series).last().map(|p| p.1))
    }

    /// Readiness: `/-/ready` answers 200.
    pub async fn ready(&self) -> Result<(), String> {
        let resp = self
            .http
            .get(format!("{}/-/ready", self.base))
            .send()
            .await
            .map_err(|e| causes(&e.without_url()))?;
        match resp.status().is_success() {
            true => Ok(()),
            false => Err(format!("prometheus answered {}", resp.status())),
        }
    }

    async fn call(&self, path: &str, params: &[(&str, String)]) -> Result<ApiData, PromError> {
        let url = reqwest::Url::parse_with_params(&format!("{}{path}", self.base), params)
            .map_err(|e| PromError::Unreachable(format!("bad prometheus url: {e}")))?;
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| PromError::Unreachable(causes(&e.without_url())))?;
        let status = resp.status();
        // Prometheus sends its JSON envelope with 4xx and 5xx too; read it for the message.
        let body: ApiResponse = resp
            .json()
            .await
            .map_err(|e| PromError::Unreachable(format!("status {status}, unreadable body: {e}")))?;
        if body.status != "success" {
            return Err(PromError::Query(
                body.error.unwrap_or_else(|| format!("status {status}")),
            ));
        }
        Ok(body.data.unwrap_or(ApiData { result: Vec::new() }))
    }
}

/// An error and its causes on one line ("error sending request: connection refused"); the
/// URL is left out because the query string would drown the reason.
fn causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Sums several series per timestamp, skipping unparsable and non-finite samples.
fn sum_points(series: impl Iterator<Item = Vec<(f64, String)>>) -> Vec<(i64, f64)> {
    let mut sum: BTreeMap<i64, f64> = BTreeMap::new();
    for points in series {
        for (t, v) in points {
            if let Ok(v) = v.parse::<f64>()
                && v.is_finite()
            {
                *sum.entry(t.round() as i64).or_insert(0.0) += v;
            }
        }
    }
    sum.into_iter().collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn series_are_summed_per_timestamp_and_nan_dropped() {
        let a = vec![(10.0, "1.5".to_owned()), (25.0, "NaN".to_owned())];
        let b = vec![(10.0, "0.5".to_owned()), (25.0, "2".to_owned())];
        assert_eq!(sum_points([a, b].into_iter()), vec![(10, 2.0), (25, 2.0)]);
    }

    #[test]
    fn api_envelope_is_parsed() {
        let text = r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{},"values":[[1700000000,"0.25"],[1700000015,"0.5"]]}]}}"#;
        let r: ApiResponse = serde_json::from_str(text).unwrap();
        let data = r.data.unwrap();
        assert_eq!(data.result[0].values.len(), 2);
    }
}
