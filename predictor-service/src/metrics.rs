//! The exported forecast series. Names are fixed (the deploy config and Prometheus Adapter
//! rules use them); every series carries the forecast service's labels (`service`, plus
//! `namespace` and `deployment` on Kubernetes), not the predictor's own name.
//!
//! Gauges are only ever set: a prediction without a utilization (capacity unknown) leaves
//! the last value in place and raises `predictor_fallback`, rather than exporting a number
//! nobody computed.

use forecast::ModelKind;
use crate::prediction::Prediction;
use crate::targets::Target;
use crate::training::Trained;

fn labels(target: &Target) -> Vec<(&'static str, String)> {
    target.labels.clone()
}

/// Publishes one service's prediction. `previous_model` is the model the gauges showed
/// before; its `predictor_model_info` series is set to 0 when the model changes.
pub fn publish(target: &Target, p: &Prediction, previous_model: Option<ModelKind>) {
    let base = labels(target);
    let set = |name: &'static str, value: Option<f64>| {
        if let Some(v) = value {
            metrics::gauge!(name, &base).set(v);
        }
    };
    set("predicted_cpu_utilization", p.predicted_utilization);
    set("predicted_cpu_utilization_upper", p.upper_utilization);
    set("predicted_cpu_cores", p.predicted_cores);
    set("predictor_backtest_mase", p.backtest_mase);
    metrics::gauge!("predictor_fallback", &base).set(if p.fallback { 1.0 } else { 0.0 });
    if let Some(old) = previous_model
        && Some(old) != p.model
    {
        metrics::gauge!("predictor_model_info", &with_model(&base, old)).set(0.0);
    }
    if let Some(model) = p.model {
        metrics::gauge!("predictor_model_info", &with_model(&base, model)).set(1.0);
    }
}

/// Records how long a model selection took.
pub fn record_training(target: &Target, trained: &Trained) {
    metrics::histogram!("predictor_model_training_seconds", &labels(target)).record(trained.training_seconds);
}

fn with_model(base: &[(&'static str, String)], model: ModelKind) -> Vec<(&'static str, String)> {
    let mut l = base.to_vec();
    l.push(("model", model.as_str().to_owned()));
    l
}
