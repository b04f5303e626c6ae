//! The exported forecast series. Names are fixed (the deploy config and Prometheus Adapter
//! rules use them); every series carries the forecast service's labels (`service`, plus
//! `namespace` and `deployment` on Kubernetes), not the predictor's own name.
//!
//! What the HPA reads comes from the lead-time peak (`Prediction::peak`):
//! `predicted_cpu_cores` and `predicted_cpu_utilization`, with `predictor_peak_quantile`,
//! `predictor_peak_coverage` and `predictor_peak_model_info{model}` beside them, and
//! `predictor_fallback` saying whether that peak is a calibrated forecast on fresh data. The
//! bucket models at `--horizon` keep `predicted_cpu_utilization_upper` (their interval's upper
//! bound), `predictor_backtest_mase` and `predictor_model_info{model}`. The peak candidates
//! have an info series of their own because their names overlap the bucket models'
//! (`last_value` is both).
//!
//! Gauges are only ever set: a prediction without a utilization (capacity unknown) leaves
//! the last value in place and raises `predictor_fallback`, rather than exporting a number
//! nobody computed.

use crate::prediction::Prediction;
use crate::targets::Target;
use crate::training::Trained;

fn labels(target: &Target) -> Vec<(&'static str, String)> {
    target.labels.clone()
}

/// Publishes one service's prediction. `previous` is what the gauges showed before: an info
/// series whose model changed is set to 0.
pub fn publish(target: &Target, p: &Prediction, previous: &Prediction) {
    let base = labels(target);
    let set = |name: &'static str, value: Option<f64>| {
        if let Some(v) = value {
            metrics::gauge!(name, &base).set(v);
        }
    };
    let peak = p.peak.as_ref();
    set("predicted_cpu_utilization", peak.and_then(|k| k.peak_utilization));
    set("predicted_cpu_cores", peak.and_then(|k| k.peak_cores));
    set("predictor_peak_quantile", peak.map(|k| k.quantile));
    set("predictor_peak_coverage", peak.and_then(|k| k.coverage));
    set("predicted_cpu_utilization_upper", p.upper_utilization);
    set("predictor_backtest_mase", p.backtest_mase);
    metrics::gauge!("predictor_fallback", &base).set(if p.hpa_fallback() { 1.0 } else { 0.0 });
    if let Some(old) = previous.model
        && Some(old) != p.model
    {
        metrics::gauge!("predictor_model_info", &with_model(&base, old.as_str())).set(0.0);
    }
    if let Some(model) = p.model {
        metrics::gauge!("predictor_model_info", &with_model(&base, model.as_str())).set(1.0);
    }
    let peak_model = |p: &Prediction| p.peak.as_ref().and_then(|k| k.model);
    if let Some(old) = peak_model(previous)
        && Some(old) != peak_model(p)
    {
        metrics::gauge!("predictor_peak_model_info", &with_model(&base, old.as_str())).set(0.0);
    }
    if let Some(model) = peak_model(p) {
        metrics::gauge!("predictor_peak_model_info", &with_model(&base, model.as_str())).set(1.0);
    }
}

/// Records how long a model selection took.
pub fn record_training(target: &Target, trained: &Trained) {
    metrics::histogram!("predictor_model_training_seconds", &labels(target)).record(trained.training_seconds);
}

fn with_model(base: &[(&'static str, String)], model: &str) -> Vec<(&'static str, String)> {
    let mut l = base.to_vec();
    l.push(("model", model.to_owned()));
    l
}
