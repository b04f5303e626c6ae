//! `POST /forecast`: a stateless forecast of any series a caller sends, for what-if use.
//! Validation lives here so the handler stays thin. The values are bounded while they are
//! parsed ([`values`]); every other field is checked after, and one 422 names each bad
//! field with its bounds.
//!
//! Bounds, and why no timestamp arithmetic can overflow: the series' timestamps run from
//! `start` to `start + (values + horizon_steps) * step_seconds`, at most
//! `MAX_START + 110,000 * 86,400 s`, far inside `i64` (checked at compile time below) and
//! inside what `chrono` can show.

pub mod values;

use std::ops::RangeInclusive;

use serde::Deserialize;
use service_kit::validation::Invalid;

use crate::error::Error;
use crate::training;
use forecast::{Forecast, ModelKind, Series};

pub use values::MAX_VALUES;

/// Longest step accepted: a day.
pub const MAX_STEP_SECONDS: i64 = 86_400;
/// Longest forecast accepted, in steps.
pub const MAX_HORIZON_STEPS: i64 = 10_000;
/// Latest `start` accepted (and the earliest, negated): 9999-12-31T23:59:59Z, the last
/// second `chrono` formats with a four-digit year.
pub const MAX_START: i64 = 253_402_300_799;
/// Body limit of the route: [`MAX_VALUES`] values of up to ~40 characters each.
pub const BODY_LIMIT_BYTES: usize = 4 * 1024 * 1024;

// The last forecast timestamp of the largest request accepted fits in an `i64`.
const _: () = {
    let steps = (MAX_VALUES as i64) + MAX_HORIZON_STEPS;
    assert!(steps.checked_mul(MAX_STEP_SECONDS).is_some());
    assert!(MAX_START.checked_add(steps * MAX_STEP_SECONDS).is_some());
};

/// The request body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ForecastRequest {
    /// Seconds between two values.
    #[schema(minimum = 1, maximum = 86_400)]
    pub step_seconds: i64,
    /// The series, oldest first.
    #[serde(deserialize_with = "values::bounded")]
    #[schema(min_items = 1, max_items = 100_000)]
    pub values: Vec<f64>,
    /// Steps to forecast.
    #[schema(minimum = 1, maximum = 10_000)]
    pub horizon_steps: i64,
    /// One model to use (`last_value`, `seasonal_naive`, `linear`, `seasonal`, `holt_winters`,
    /// `ensemble`); default: the backtest chooses.
    #[schema(value_type = Option<ModelKind>)]
    pub model: Option<String>,
    /// Unix time of the first value (hour-of-day features use it); default 0.
    #[schema(minimum = -253_402_300_799.0, maximum = 253_402_300_799.0)]
    pub start: Option<i64>,
}

/// A request that passed validation.
#[derive(Debug)]
pub struct Validated {
    series: Series,
    horizon_steps: usize,
    candidates: Vec<ModelKind>,
}

/// The detail of every 422 of the checks below; `errors` names the fields.
const DETAIL: &str = "the forecast request is invalid";

/// `value` when it lies in `range`, else the message for its field.
fn within(value: i64, range: RangeInclusive<i64>) -> Result<i64, String> {
    match range.contains(&value) {
        true => Ok(value),
        false => Err(format!("must be in {}..={}, got {value}", range.start(), range.end())),
    }
}

impl ForecastRequest {
    /// Checks every field; the error is a 422 naming each bad one.
    pub fn validate(self) -> Result<Validated, Error> {
        self.check().map_err(Error::from)
    }

    fn check(self) -> Result<Validated, Invalid> {
        let mut invalid = Invalid::new(DETAIL);
        let step = invalid.check("step_seconds", within(self.step_seconds, 1..=MAX_STEP_SECONDS));
        let horizon = invalid.check(
            "horizon_steps",
            within(self.horizon_steps, 1..=MAX_HORIZON_STEPS)
                .and_then(|h| usize::try_from(h).map_err(|e| e.to_string())),
        );
        let start = invalid.check_opt("start", self.start.map(|s| within(s, -MAX_START..=MAX_START)));
        if self.values.is_empty() {
            invalid = invalid.with_error("values", "must not be empty");
        }
        let model = invalid.check_opt(
            "model",
            self.model
                .as_deref()
                .map(|m| m.parse::<ModelKind>().map_err(|e| e.to_string())),
        );
        invalid.finish()?;
        // A check that gave `None` recorded its message, so both are set past `finish`.
        let (Some(step), Some(horizon_steps)) = (step, horizon) else {
            return Err(Invalid::new(DETAIL));
        };
        let candidates = model.map_or_else(|| ModelKind::ALL.to_vec(), |m| vec![m]);
        let series = Series::new(start.unwrap_or(0), step, self.values)
            .map_err(|e| Invalid::new(DETAIL).with_error("values", e.to_string()))?;
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

    fn request(body: serde_json::Value) -> Result<Validated, Invalid> {
        serde_json::from_value::<ForecastRequest>(body).unwrap().check()
    }

    /// The fields a request with `field: value` (on an otherwise valid request) is refused for.
    fn refused(field: &str, value: serde_json::Value) -> Vec<String> {
        let mut body = json!({"step_seconds": 15, "values": [1, 2, 3], "horizon_steps": 2});
        body[field] = value;
        match request(body) {
            Ok(_) => vec![],
            Err(e) => e.errors.into_keys().collect(),
        }
    }

    #[test]
    fn step_seconds_is_bounded() {
        for ok in [1, 15, MAX_STEP_SECONDS] {
            assert!(refused("step_seconds", json!(ok)).is_empty(), "{ok}");
        }
        for bad in [0, -1, MAX_STEP_SECONDS + 1, i64::MAX, i64::MIN] {
            assert_eq!(refused("step_seconds", json!(bad)), ["step_seconds"], "{bad}");
        }
    }

    #[test]
    fn horizon_steps_is_bounded() {
        for ok in [1, MAX_HORIZON_STEPS] {
            assert!(refused("horizon_steps", json!(ok)).is_empty(), "{ok}");
        }
        for bad in [0, -1, MAX_HORIZON_STEPS + 1, i64::MAX, i64::MIN] {
            assert_eq!(refused("horizon_steps", json!(bad)), ["horizon_steps"], "{bad}");
        }
    }

    #[test]
    fn start_is_bounded() {
        for ok in [0, -1, 1_700_000_000, MAX_START, -MAX_START] {
            assert!(refused("start", json!(ok)).is_empty(), "{ok}");
        }
        for bad in [MAX_START + 1, -MAX_START - 1, i64::MAX, i64::MIN] {
            assert_eq!(refused("start", json!(bad)), ["start"], "{bad}");
        }
    }

    #[test]
    fn every_bad_field_is_named_with_its_bounds() {
        let err = request(json!({
            "step_seconds": 0, "values": [], "horizon_steps": 10_001, "model": "prophet", "start": i64::MAX
        }))
        .err()
        .unwrap();
        let fields: Vec<_> = err.errors.keys().map(String::as_str).collect();
        assert_eq!(fields, ["horizon_steps", "model", "start", "step_seconds", "values"]);
        assert_eq!(err.errors["step_seconds"], "must be in 1..=86400, got 0");
        assert_eq!(err.errors["horizon_steps"], "must be in 1..=10000, got 10001");
        assert!(err.errors["model"].contains("unknown model"), "{:?}", err.errors);
        assert_eq!(err.errors["values"], "must not be empty");
    }

    #[test]
    fn the_largest_request_has_representable_timestamps() {
        let steps = i64::try_from(MAX_VALUES).unwrap() + MAX_HORIZON_STEPS;
        let last = MAX_START + steps * MAX_STEP_SECONDS;
        assert!(chrono::DateTime::from_timestamp(last, 0).is_some());
        assert!(chrono::DateTime::from_timestamp(-MAX_START, 0).is_some());
    }

    #[test]
    fn fits_at_the_extreme_bounds_do_not_overflow() {
        // Debug builds panic on overflow. Each corner of `start` and `step_seconds`: the
        // longest horizon (short history, so the last-value fallback serves), then each model
        // on a history long enough to be fit and backtested.
        let corners = [
            (1, -MAX_START),
            (MAX_STEP_SECONDS, MAX_START),
            (MAX_STEP_SECONDS, -MAX_START),
        ];
        let values = |n: i32| (0..n).map(|i| 1.0 + f64::from(i % 7)).collect::<Vec<_>>();
        for (step, start) in corners {
            let body = json!({
                "step_seconds": step, "values": values(300), "horizon_steps": MAX_HORIZON_STEPS, "start": start
            });
            assert_eq!(run(&request(body).unwrap()).unwrap().path.len(), 10_000);
            for model in ModelKind::ALL {
                let body = json!({
                    "step_seconds": step, "values": values(600), "horizon_steps": 10,
                    "start": start, "model": model.to_string()
                });
                let f = run(&request(body).unwrap()).unwrap();
                assert_eq!(f.path.len(), 10, "{model}, step {step}, start {start}");
                eprintln!(
                    "{model} {step} {start}: {:?} {} {:?}",
                    f.model, f.fallback, f.fallback_reason
                );
            }
        }
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
