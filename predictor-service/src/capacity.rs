//! What a service has now and what a demand is worth against it: the observed replicas and
//! CPU request, and the utilization arithmetic (percent of replicas x request per pod, the
//! unit of the HPA's CPU target). Both the bucket models' answer (`prediction`) and the
//! lead-time peak (`peak`) use it. Pure functions, no I/O.

/// What was observed about a service at one refresh.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Observed {
    /// Latest demand in cores.
    pub current_cores: Option<f64>,
    /// Current replicas.
    pub replicas: Option<f64>,
    /// CPU request per pod.
    pub request_cores: Option<f64>,
}

/// Percent of the requested CPU that `cores` would use on `replicas` pods requesting
/// `request_cores` each; `None` when the capacity is unknown or zero (no invented numbers).
pub fn utilization(cores: f64, replicas: Option<f64>, request_cores: Option<f64>) -> Option<f64> {
    let capacity = replicas? * request_cores?;
    (capacity > 0.0 && cores.is_finite()).then(|| cores / capacity * 100.0)
}

/// Why a utilization cannot be computed from `observed` (replicas or request missing or
/// zero).
pub fn capacity_unknown(observed: Observed) -> &'static str {
    match (observed.replicas, observed.request_cores) {
        (None, _) => "replicas unknown (the replicas query matched nothing)",
        (_, None) => "cpu request unknown (the request query matched nothing)",
        _ => "no capacity: zero replicas or a zero cpu request",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn utilization_is_demand_over_replicas_times_request() {
        // 0.6 cores on 2 pods of 0.25 cores: 120 % of the request.
        assert!((utilization(0.6, Some(2.0), Some(0.25)).unwrap() - 120.0).abs() < 1e-9);
        assert!((utilization(1.0, Some(4.0), Some(0.5)).unwrap() - 50.0).abs() < 1e-9);
        assert_eq!(utilization(1.0, None, Some(0.5)), None);
        assert_eq!(utilization(1.0, Some(0.0), Some(0.5)), None);
        assert_eq!(utilization(1.0, Some(2.0), None), None);
    }
}
