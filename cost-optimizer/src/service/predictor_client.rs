//! The predictor's forecasts (`GET {predictor}/predict/{service}`) turned into the
//! [`DemandForecast`] the decision rule takes.
//!
//! Anything short of a usable forecast (no answer, an error, the predictor's own fallback, null
//! predictions) becomes a reason string instead: the rule then falls back to current usage and
//! quotes the reason, so a caller can always tell which data a decision rests on.
//!
//! Scale-ups rest on the number the HPA is given: the predictor's lead-time peak at its serving
//! quantile (`peak.peak_cores`, exported as `predicted_cpu_cores`), with its point forecast as
//! the mean. Until that forecaster is calibrated (its first half hour or so) the predictor's
//! model forecast over its horizon stands in. The scale-down rule also needs the peak over the
//! stabilization window; when that window is longer than the horizon it is asked for
//! separately with `?horizon=`.

use std::time::Duration;

use serde::Deserialize;

use crate::decision::DemandForecast;

/// The fields of the predictor's answer that this service uses; the others are ignored so that
/// the predictor may add fields freely.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Prediction {
    /// Service the forecast is for.
    pub service: String,
    /// How far ahead the forecast looks.
    pub horizon_seconds: Option<f64>,
    /// Expected total CPU demand over the horizon, cores.
    pub predicted_cores: Option<f64>,
    /// Upper bound of the prediction interval, cores.
    pub predicted_cores_upper: Option<f64>,
    /// Replicas the predictor saw.
    pub replicas: Option<f64>,
    /// Model name.
    pub model: Option<String>,
    /// Backtest error relative to the naive forecast (1 = as good as naive).
    pub backtest_mase: Option<f64>,
    /// True when the predictor itself could not forecast and reports a stand-in.
    pub fallback: bool,
    /// Why it fell back.
    pub fallback_reason: Option<String>,
    /// The lead-time peak the HPA is given, when the predictor reports one.
    pub peak: Option<PeakAnswer>,
}

/// The `peak` object of the predictor's answer (the fields used here).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PeakAnswer {
    /// The peak over the lead time at the serving quantile, cores.
    pub peak_cores: Option<f64>,
    /// The point forecast of that peak, cores.
    pub point_cores: Option<f64>,
    /// True while the peak forecaster is not calibrated.
    pub fallback: bool,
}

impl PeakAnswer {
    /// `(point, peak)` when calibrated and usable.
    fn usable(&self) -> Option<(f64, f64)> {
        let (point, peak) = (self.point_cores?, self.peak_cores?);
        (!self.fallback && point.is_finite() && peak.is_finite() && point >= 0.0).then_some((point, peak))
    }
}

impl Prediction {
    /// The forecast for the rule, or why there is none. The stabilization-window bound is left
    /// to [`ForecastHistory`].
    pub fn to_forecast(&self) -> Result<DemandForecast, String> {
        if self.fallback {
            let why = self.fallback_reason.as_deref().unwrap_or("no reason given");
            return Err(format!("the predictor fell back: {why}"));
        }
        let from_peak = self.peak.as_ref().and_then(PeakAnswer::usable);
        let (Some(mean), Some(upper)) = from_peak
            .map_or((self.predicted_cores, self.predicted_cores_upper), |(m, u)| {
                (Some(m), Some(u))
            })
        else {
            return Err("the predictor has no forecast yet".into());
        };
        if !(mean.is_finite() && upper.is_finite() && mean >= 0.0) {
            return Err(format!("the predictor returned an unusable forecast ({mean}, {upper})"));
        }
        Ok(DemandForecast {
            mean_cores: mean,
            // An interval narrower than the mean would be a predictor bug; never provision below it.
            upper_cores: upper.max(mean),
            window_upper_cores: None,
            confidence: self.backtest_mase.and_then(confidence_from_mase),
        })
    }
}

/// 1 / (1 + MASE): a perfect backtest gives 1, one as good as the naive forecast 0.5, and worse
/// models fall towards 0. Monotone and bounded, which is all the answer's `confidence` needs.
pub fn confidence_from_mase(mase: f64) -> Option<f64> {
    (mase.is_finite() && mase >= 0.0).then(|| 1.0 / (1.0 + mase))
}

/// Why no prediction could be had.
#[derive(Debug, thiserror::Error)]
pub enum PredictorError {
    /// No connection, or no answer within the timeout.
    #[error("predictor unreachable: {}", service_kit::prometheus::transport_reason(.0))]
    Unreachable(#[source] reqwest::Error),
    /// The predictor does not forecast this service (404).
    #[error("the predictor does not forecast this service")]
    UnknownService,
    /// Any other error status.
    #[error("predictor answered {0}")]
    Status(u16),
    /// Not the documented JSON.
    #[error("unexpected answer from the predictor: {0}")]
    Malformed(String),
}

/// The predictor's HTTP API.
#[derive(Debug, Clone)]
pub struct PredictorClient {
    client: reqwest::Client,
    base: String,
}

impl PredictorClient {
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

    /// The forecast for the rule, its window bound filled in, and the prediction it came from;
    /// `Err` is the reason there is none, to be quoted in the decision.
    pub async fn forecast(&self, service: &str, window_seconds: u64) -> Result<(Prediction, DemandForecast), String> {
        let prediction = self.predict(service, None).await.map_err(|e| e.to_string())?;
        let mut forecast = prediction.to_forecast()?;
        let horizon = prediction.horizon_seconds.unwrap_or(0.0);
        forecast.window_upper_cores = if horizon >= window_seconds as f64 {
            // The peak over the horizon covers the whole window.
            Some(forecast.upper_cores)
        } else {
            // Without the window's bound the rule uses the horizon's, which is what a plain
            // HPA would do; so a failure here only loses caution on scale-downs, and is logged.
            match self
                .predict(service, Some(window_seconds))
                .await
                .map(|p| p.to_forecast())
            {
                Ok(Ok(w)) => Some(w.upper_cores.max(forecast.upper_cores)),
                Ok(Err(why)) => {
                    tracing::warn!(service, why, "no forecast over the stabilization window");
                    None
                }
                Err(e) => {
                    tracing::warn!(service, error.message = %e, "no forecast over the stabilization window");
                    None
                }
            }
        };
        Ok((prediction, forecast))
    }

    /// `GET /predict/{service}`, with `?horizon=` when given.
    pub async fn predict(&self, service: &str, horizon_seconds: Option<u64>) -> Result<Prediction, PredictorError> {
        let mut url = format!("{}/predict/{service}", self.base);
        if let Some(h) = horizon_seconds {
            url.push_str(&format!("?horizon={h}s"));
        }
        let resp = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| PredictorError::Unreachable(e.without_url()))?;
        match resp.status().as_u16() {
            200 => resp
                .json::<Prediction>()
                .await
                .map_err(|e| PredictorError::Malformed(e.to_string())),
            404 => Err(PredictorError::UnknownService),
            s => Err(PredictorError::Status(s)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn prediction() -> Prediction {
        Prediction {
            service: "catalog-service".into(),
            predicted_cores: Some(0.4),
            predicted_cores_upper: Some(0.6),
            backtest_mase: Some(1.0),
            ..Prediction::default()
        }
    }

    #[test]
    fn a_forecast_maps_cores_and_confidence() {
        let f = prediction().to_forecast().unwrap();
        assert_eq!((f.mean_cores, f.upper_cores, f.window_upper_cores), (0.4, 0.6, None));
        assert_eq!(f.confidence, Some(0.5));
    }

    #[test]
    fn a_calibrated_peak_is_what_scale_ups_rest_on() {
        let mut p = prediction();
        p.peak = Some(PeakAnswer {
            peak_cores: Some(0.9),
            point_cores: Some(0.7),
            fallback: false,
        });
        let f = p.to_forecast().unwrap();
        assert_eq!((f.mean_cores, f.upper_cores), (0.7, 0.9));
        // Not calibrated yet: the model forecast stands in.
        p.peak.as_mut().unwrap().fallback = true;
        assert_eq!(p.to_forecast().unwrap().upper_cores, 0.6);
    }

    #[test]
    fn fallback_and_missing_values_give_reasons() {
        let mut p = prediction();
        p.fallback = true;
        p.fallback_reason = Some("prometheus down".into());
        assert!(p.to_forecast().unwrap_err().contains("prometheus down"));
        let mut p = prediction();
        p.predicted_cores_upper = None;
        assert!(p.to_forecast().unwrap_err().contains("no forecast"));
    }

    #[test]
    fn the_documented_answer_parses() {
        let json = r#"{"service":"catalog-service","horizon_seconds":300,"predicted_utilization":40.0,
            "lower_utilization":30.0,"upper_utilization":55.0,"predicted_cores":0.2,"predicted_cores_upper":0.3,
            "current_cores":0.1,"current_utilization":20.0,"replicas":2,"cpu_request_cores":0.25,
            "model":"linear","backtest_mase":null,"fallback":false,"fallback_reason":null,"samples":120,
            "generated_at":"2026-11-26T12:00:00Z"}"#;
        let p: Prediction = serde_json::from_str(json).unwrap();
        assert_eq!(p.replicas, Some(2.0));
        assert_eq!(p.to_forecast().unwrap().confidence, None);
    }
}
