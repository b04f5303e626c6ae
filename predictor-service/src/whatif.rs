//! `POST /forecast`: a stateless forecast of any series a caller sends, for what-if use.
//! Validation lives here so the handler stays thin; every refusal is a message for a 422.

use serde::Deserialize;

use crate::error::Error;
use crate::training;
use forecast::{Forecast, ModelKind, Series};

/// Most values accepted: two weeks at 15-second steps (the issue asks for at least 50,000).
pub const MAX_VALUES: usize = 100_000;
/// Longest forecast accepted, in steps.
pub const MAX_HORIZON_STEPS: usize = 10_000;
/// Body limit of the route: 100,000 values of up to ~40 characters each.
pub const BODY_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// The request body. Values are read as raw JSON so that a `null` or a string such as
/// `"NaN"` is a 422 naming its index rather than a generic parse error.
#[derive(Debug, Deserialize)]
pub struct ForecastRequest {
    /// Seconds between two values.
    pub step_seconds: i64,
    /// The series, oldest first.
    pub values: Vec<serde_json::Value>,
    /// Steps to forecast.
    pub horizon_steps: i64,
    /// One model to use (`last_value`, `seasonal_naive`, `linear`, `seasonal`); default: the
    /// backtest chooses.
    pub model: Option<String>,
    /// Unix time of the first value (hour-of-day features use it); default 0.
    pub start: Option<i64>,
}

/// A request that passed validation.
#[derive(Debug)]
pub struct Validated {
    series: Series,
    horizon_steps: usize,
    candidates: Vec<ModelKind>,
}

impl ForecastRequest {
    /// Checks the request; the error is the 422 detail.
    pub fn validate(self) -> Result<Validated, Error> {
        self.check().map_err(Error::Invalid)
    }

    fn check(self) -> Result<Validated, String> {
        if self.step_seconds <= 0 {
            return Err(format!("step_seconds must be positive, got {}", self.step_seconds));
        }
        if self.values.is_empty() {
            return Err("values must not be empty".into());
        }
        if self.values.len() > MAX_VALUES {
            return Err(format!("at most {MAX_VALUES} values, got {}", self.values.len()));
        }
        let horizon_steps = usize::try_from(self.horizon_steps)
            .ok()
            .filter(|h| (1..=MAX_HORIZON_STEPS).contains(h))
            .ok_or_else(|| format!("horizon_steps must be in 1..={MAX_HORIZON_STEPS}"))?;
        let mut values = Vec::with_capacity(self.values.len());
        for (i, v) in self.values.iter().enumerate() {
            match v.as_f64() {
                Some(x) if x.is_finite() => values.push(x),
                _ => return Err(format!("values[{i}] is not a finite number: {v}")),
            }
        }
        let candidates = match self.model.as_deref() {
            None => ModelKind::ALL.to_vec(),
            Some(name) => vec![name.parse::<ModelKind>().map_err(|e| e.to_string())?],
        };
        let series = Series::new(self.start.unwrap_or(0), self.step_seconds, values).map_err(|e| e.to_string())?;
        Ok(Validated {
            series,
            horizon_steps,
            candidates,
        })
    }
}

/// Runs the selection (CPU-bound: call it from `spawn_blocking`).
pub fn run(v: &Validated) -> forecast::Result<Forecast> {
    training::train(&v.series, v.horizon_steps, &v.candidates).map(|(_, f)| f)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(body: serde_json::Value) -> Result<Validated, String> {
        serde_json::from_value::<ForecastRequest>(body).unwrap().check()
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        let cases = [
            (
                json!({"step_seconds": 0, "values": [1], "horizon_steps": 1}),
                "step_seconds",
            ),
            (json!({"step_seconds": 15, "values": [], "horizon_steps": 1}), "empty"),
            (
                json!({"step_seconds": 15, "values": [1, null], "horizon_steps": 1}),
                "values[1]",
            ),
            (
                json!({"step_seconds": 15, "values": [1, "NaN"], "horizon_steps": 1}),
                "values[1]",
            ),
            (
                json!({"step_seconds": 15, "values": [1], "horizon_steps": 0}),
                "horizon_steps",
            ),
            (
                json!({"step_seconds": 15, "values": [1], "horizon_steps": 1, "model": "x"}),
                "unknown model",
            ),
        ];
        for (body, expected) in cases {
            let err = request(body.clone()).unwrap_err();
            assert!(err.contains(expected), "{body}: {err}");
        }
        let too_many = json!({"step_seconds": 15, "values": vec![1.0; MAX_VALUES + 1], "horizon_steps": 1});
        assert!(request(too_many).unwrap_err().contains("at most"));
    }

    #[test]
    fn one_named_model_is_used() {
        let v =
            request(json!({"step_seconds": 60, "values": [1, 2, 3], "horizon_steps": 2, "model": "linear"})).unwrap();
        assert_eq!(v.candidates, vec![ModelKind::Linear]);
        let f = run(&v).unwrap();
        assert_eq!(f.path.len(), 2);
    }
}
