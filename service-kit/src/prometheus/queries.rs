//! The PromQL of the platform's two setups, in one place: the predictor reads demand,
//! replicas and the CPU request per pod with it, the cost optimizer CPU, memory and
//! replicas. Each query aggregates to one series for the whole service.

use std::time::Duration;

/// The environment variable both services read the setup from (`--setup` on their command
/// lines). It replaced `COST_SETUP` and `PREDICTOR_SETUP`, which start-up refuses
/// ([`crate::retired`]).
pub const SETUP_ENV: &str = "PLATFORM_SETUP";

/// Where the platform runs, which decides the series names and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Setup {
    /// Plain processes scraped by Prometheus (`make up`); every series has a `service`
    /// label, and each process exports `process_*` series.
    Native,
    /// Pods: cAdvisor container series and kube-state-metrics replicas and requests, in
    /// one namespace, with Deployments and containers named after the service (`k8s/`).
    Kubernetes,
}

/// The queries of one setup, namespace and rate window.
#[derive(Debug, Clone)]
pub struct UsageQueries {
    setup: Setup,
    namespace: String,
    rate_window: String,
}

impl UsageQueries {
    /// Queries for `setup`; `namespace` is used on Kubernetes only, and `rate_window` is
    /// the range of `rate()` (whole seconds).
    pub fn new(setup: Setup, namespace: &str, rate_window: Duration) -> Self {
        Self {
            setup,
            namespace: namespace.to_owned(),
            rate_window: promql_duration(rate_window),
        }
    }

    /// The setup the queries are for.
    pub fn setup(&self) -> Setup {
        self.setup
    }

    fn selector(&self, service: &str) -> String {
        match self.setup {
            Setup::Native => format!("service={}", label_value(service)),
            Setup::Kubernetes => format!(
                "namespace={},container={}",
                label_value(&self.namespace),
                label_value(service)
            ),
        }
    }

    /// Total CPU in use by all replicas, in cores.
    pub fn cpu_cores(&self, service: &str) -> String {
        let metric = match self.setup {
            Setup::Native => "process_cpu_seconds_total",
            Setup::Kubernetes => "container_cpu_usage_seconds_total",
        };
        format!(
            "sum(rate({metric}{{{}}}[{}]))",
            self.selector(service),
            self.rate_window
        )
    }

    /// Total memory in use, in bytes (working set on Kubernetes: what the OOM killer counts).
    pub fn memory_bytes(&self, service: &str) -> String {
        let metric = match self.setup {
            Setup::Native => "process_resident_memory_bytes",
            Setup::Kubernetes => "container_memory_working_set_bytes",
        };
        format!("sum({metric}{{{}}})", self.selector(service))
    }

    /// Running replicas. Natively one process is one replica, counted by a series every
    /// service-kit process exports (`up` has no `service` label, so it cannot be used).
    pub fn replicas(&self, service: &str) -> String {
        match self.setup {
            Setup::Native => format!("count(process_start_time_seconds{{{}}})", self.selector(service)),
            Setup::Kubernetes => format!(
                "sum(kube_deployment_status_replicas{{namespace={},deployment={}}})",
                label_value(&self.namespace),
                label_value(service)
            ),
        }
    }

    /// The CPU request per pod, in cores; `None` natively, where processes request nothing.
    pub fn cpu_request_per_pod(&self, service: &str) -> Option<String> {
        match self.setup {
            Setup::Native => None,
            Setup::Kubernetes => Some(format!(
                "avg(kube_pod_container_resource_requests{{{},resource=\"cpu\"}})",
                self.selector(service)
            )),
        }
    }
}

/// Quotes a label value as a PromQL string literal (backslash, double quote and line
/// breaks escaped), so that a service name from a file cannot change the query.
pub fn label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A duration in PromQL syntax, whole seconds and at least one (PromQL rejects fractions).
pub fn promql_duration(d: Duration) -> String {
    format!("{}s", d.as_secs().max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_value("catalog-service"), "\"catalog-service\"");
        assert_eq!(label_value("a\"}or vector(1)"), "\"a\\\"}or vector(1)\"");
        assert_eq!(label_value("a\\b"), "\"a\\\\b\"");
        assert_eq!(label_value("a\nb"), "\"a\\nb\"");
    }

    #[test]
    fn durations_are_whole_seconds() {
        assert_eq!(promql_duration(Duration::from_secs(60)), "60s");
        assert_eq!(promql_duration(Duration::from_millis(1500)), "1s");
        assert_eq!(promql_duration(Duration::ZERO), "1s");
    }

    #[test]
    fn native_queries_use_the_service_label() {
        let q = UsageQueries::new(Setup::Native, "ns", Duration::from_secs(60));
        assert_eq!(
            q.cpu_cores("catalog-service"),
            r#"sum(rate(process_cpu_seconds_total{service="catalog-service"}[60s]))"#
        );
        assert_eq!(
            q.memory_bytes("x"),
            r#"sum(process_resident_memory_bytes{service="x"})"#
        );
        assert_eq!(q.replicas("x"), r#"count(process_start_time_seconds{service="x"})"#);
        assert_eq!(q.cpu_request_per_pod("x"), None);
    }

    #[test]
    fn kubernetes_queries_use_cadvisor_and_kube_state_metrics() {
        let q = UsageQueries::new(Setup::Kubernetes, "shop", Duration::from_secs(120));
        assert_eq!(
            q.cpu_cores("x"),
            r#"sum(rate(container_cpu_usage_seconds_total{namespace="shop",container="x"}[120s]))"#
        );
        assert_eq!(
            q.memory_bytes("x"),
            r#"sum(container_memory_working_set_bytes{namespace="shop",container="x"})"#
        );
        assert_eq!(
            q.replicas("x"),
            r#"sum(kube_deployment_status_replicas{namespace="shop",deployment="x"})"#
        );
        assert_eq!(
            q.cpu_request_per_pod("x").as_deref(),
            Some(r#"avg(kube_pod_container_resource_requests{namespace="shop",container="x",resource="cpu"})"#)
        );
    }
}
