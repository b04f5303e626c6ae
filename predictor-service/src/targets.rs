//! What to ask Prometheus per service: the demand query (total cores used by all its pods),
//! the replicas query and the CPU request per pod, and the quantile its peak is served at,
//! from the setup's defaults (the PromQL of `service_kit::prometheus`, which the cost optimizer
//! sends too) and the optional `--service-config` JSON file. Its query templates use
//! `{service}` and `{namespace}` placeholders, so an override file can be shared between
//! namespaces.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::Deserialize;
use service_kit::prometheus::{Setup, UsageQueries};

use crate::config::Config;

/// The CPU a pod requests: a fixed figure (native processes have no request, so the tier the
/// cost optimizer prices them at stands in) or a Prometheus query (Kubernetes).
#[derive(Debug, Clone, PartialEq)]
pub enum CpuRequest {
    /// Cores per pod.
    Cores(f64),
    /// A query returning cores per pod.
    Query(String),
}

/// Everything the refresh loop needs to know about one forecast service.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The service name (`service` label of the exported series).
    pub service: String,
    /// Query of the total CPU demand in cores.
    pub demand_query: String,
    /// Query of the current number of replicas.
    pub replicas_query: String,
    /// CPU request per pod.
    pub cpu_request: CpuRequest,
    /// Quantile of the exported peak (`--quantile` unless the file overrides it).
    pub quantile: f64,
    /// Labels of every exported series for this service.
    pub labels: Vec<(&'static str, String)>,
}

/// One entry of the `--service-config` file; absent fields keep the defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceOverride {
    /// Replaces the demand query.
    pub demand_query: Option<String>,
    /// Replaces the replicas query.
    pub replicas_query: Option<String>,
    /// A fixed CPU request per pod, in cores.
    pub cpu_request_cores: Option<f64>,
    /// A query for the CPU request per pod, in cores.
    pub cpu_request_query: Option<String>,
    /// Quantile of the exported peak (0 < q < 1), instead of `--quantile`: a service whose
    /// misses cost more (a queue that backs up) can buy more headroom.
    pub quantile: Option<f64>,
}

/// Range of `rate()` in the default demand query: a minute, four scrapes at 15 s.
const DEMAND_RATE_WINDOW: Duration = Duration::from_secs(60);

/// `config/tiers.json`, where the tiers and each workload's tier are written once (the cost
/// optimizer prices them from the same file).
const TIERS_JSON: &str = include_str!("../../config/tiers.json");

/// The parts of `config/tiers.json` this service reads.
#[derive(Deserialize)]
struct TierFile {
    tiers: Vec<TierSize>,
    services: BTreeMap<String, ServiceTier>,
    #[serde(default)]
    workloads: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct TierSize {
    name: String,
    cpu_cores: f64,
}

#[derive(Deserialize)]
struct ServiceTier {
    tier: String,
}

/// CPU request per pod of the native processes: their tier's CPU in `config/tiers.json` (small
/// 0.25, medium 0.5, micro 0.1 cores), the figure the cost optimizer prices them at, so both
/// services use one unit.
pub fn native_cpu_request(service: &str) -> Option<f64> {
    let file: TierFile = serde_json::from_str(TIERS_JSON).ok()?;
    let tier = match file.services.get(service) {
        Some(s) => &s.tier,
        None => file.workloads.get(service)?,
    };
    file.tiers.iter().find(|t| &t.name == tier).map(|t| t.cpu_cores)
}

/// Fills `{service}` and `{namespace}` in a query template.
pub fn render(template: &str, service: &str, namespace: &str) -> String {
    template.replace("{service}", service).replace("{namespace}", namespace)
}

/// Reads the override file: a JSON object keyed by service name.
pub fn load_overrides(path: &std::path::Path) -> anyhow::Result<BTreeMap<String, ServiceOverride>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("invalid service config {}", path.display()))
}

/// The targets of every configured service, in configuration order.
pub fn targets(config: &Config) -> anyhow::Result<Vec<Target>> {
    let overrides = match &config.service_config {
        Some(path) => load_overrides(path)?,
        None => BTreeMap::new(),
    };
    build_targets(config, &overrides)
}

/// [`targets`] with the overrides already read (unit-testable without files).
pub fn build_targets(config: &Config, overrides: &BTreeMap<String, ServiceOverride>) -> anyhow::Result<Vec<Target>> {
    let services: Vec<&str> = config
        .services
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if services.is_empty() {
        bail!("no service to forecast: --services is empty");
    }
    // A name in the file that is not served is almost always a typo: say so at start-up.
    if let Some(unknown) = overrides.keys().find(|k| !services.contains(&k.as_str())) {
        bail!("service config names {unknown:?}, which is not in --services");
    }
    let namespace = config.kubernetes_namespace.as_deref().unwrap_or("");
    if config.setup == Setup::Kubernetes && namespace.is_empty() {
        bail!("--setup kubernetes needs --kubernetes-namespace (KUBERNETES_NAMESPACE)");
    }
    let queries = UsageQueries::new(config.setup, namespace, DEMAND_RATE_WINDOW);
    let mut out = Vec::with_capacity(services.len());
    for service in services {
        let o = overrides.get(service).cloned().unwrap_or_default();
        let template = |t: &Option<String>, default: String| match t {
            Some(t) => render(t, service, namespace),
            None => default,
        };
        let cpu_request = match (o.cpu_request_cores, o.cpu_request_query) {
            (Some(_), Some(_)) => bail!("{service}: give cpu_request_cores or cpu_request_query, not both"),
            (Some(c), None) if c.is_finite() && c > 0.0 => CpuRequest::Cores(c),
            (Some(c), None) => bail!("{service}: cpu_request_cores must be positive, got {c}"),
            (None, Some(q)) => CpuRequest::Query(render(&q, service, namespace)),
            (None, None) => match queries.cpu_request_per_pod(service) {
                Some(q) => CpuRequest::Query(q),
                None => CpuRequest::Cores(native_cpu_request(service).with_context(|| {
                    format!("{service}: no default CPU request; set cpu_request_cores in --service-config")
                })?),
            },
        };
        let quantile = o.quantile.unwrap_or(config.quantile);
        crate::config::check_quantile(quantile).map_err(|e| anyhow::anyhow!("{service}: quantile: {e}"))?;
        let mut labels = vec![("service", service.to_owned())];
        if !namespace.is_empty() {
            labels.push(("namespace", namespace.to_owned()));
            labels.push(("deployment", service.to_owned()));
        }
        out.push(Target {
            service: service.to_owned(),
            demand_query: template(&o.demand_query, queries.cpu_cores(service)),
            replicas_query: template(&o.replicas_query, queries.replicas(service)),
            cpu_request,
            quantile,
            labels,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn config(setup: Setup, namespace: Option<&str>, services: &str) -> Config {
        Config {
            setup,
            kubernetes_namespace: namespace.map(str::to_owned),
            services: services.split(',').map(str::to_owned).collect(),
            ..Config::default()
        }
    }

    #[test]
    fn native_defaults_use_process_metrics_and_policy_tiers() {
        let t = build_targets(&Config::default(), &BTreeMap::new()).unwrap();
        let names: Vec<_> = t.iter().map(|t| t.service.as_str()).collect();
        assert_eq!(
            names,
            ["user-service", "catalog-service", "order-service", "order-worker"]
        );
        assert_eq!(
            t[1].demand_query,
            r#"sum(rate(process_cpu_seconds_total{service="catalog-service"}[60s]))"#
        );
        assert_eq!(
            t[1].replicas_query,
            r#"count(process_start_time_seconds{service="catalog-service"})"#
        );
        assert_eq!(t[1].cpu_request, CpuRequest::Cores(0.25));
        assert_eq!(t[2].cpu_request, CpuRequest::Cores(0.5));
        assert_eq!(t[3].cpu_request, CpuRequest::Cores(0.5));
        assert_eq!(t[0].labels, vec![("service", "user-service".to_owned())]);
    }

    #[test]
    fn native_requests_come_from_the_tier_file() {
        assert_eq!(native_cpu_request("cost-optimizer"), Some(0.1));
        assert_eq!(native_cpu_request("predictor-service"), Some(0.5));
        assert_eq!(native_cpu_request("order-worker"), Some(0.5));
        assert_eq!(native_cpu_request("mailer"), None);
    }

    #[test]
    fn kubernetes_defaults_fill_namespace_and_add_labels() {
        let t = build_targets(
            &config(Setup::Kubernetes, Some("shop"), "order-service"),
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(
            t[0].demand_query,
            r#"sum(rate(container_cpu_usage_seconds_total{namespace="shop",container="order-service"}[60s]))"#
        );
        assert_eq!(
            t[0].replicas_query,
            r#"sum(kube_deployment_status_replicas{namespace="shop",deployment="order-service"})"#
        );
        assert_eq!(
            t[0].cpu_request,
            CpuRequest::Query(
                r#"avg(kube_pod_container_resource_requests{namespace="shop",container="order-service",resource="cpu"})"#
                    .into()
            )
        );
        let keys: Vec<_> = t[0].labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            keys,
            ["service=order-service", "namespace=shop", "deployment=order-service"]
        );
        assert!(build_targets(&config(Setup::Kubernetes, None, "x"), &BTreeMap::new()).is_err());
    }

    #[test]
    fn overrides_replace_fields_and_typos_are_refused() {
        let mut o = BTreeMap::new();
        o.insert(
            "api".to_owned(),
            ServiceOverride {
                demand_query: Some(r#"sum(my_cpu{app="{service}"})"#.into()),
                cpu_request_cores: Some(2.0),
                ..ServiceOverride::default()
            },
        );
        let t = build_targets(&config(Setup::Native, None, "api"), &o).unwrap();
        assert_eq!(t[0].demand_query, r#"sum(my_cpu{app="api"})"#);
        assert_eq!(
            t[0].replicas_query,
            r#"count(process_start_time_seconds{service="api"})"#
        );
        assert_eq!(t[0].cpu_request, CpuRequest::Cores(2.0));
        assert_eq!(t[0].quantile, 0.9, "--quantile when the file has none");
        assert!(
            build_targets(&config(Setup::Native, None, "other"), &o).is_err(),
            "typo in file"
        );
        assert!(
            build_targets(&config(Setup::Native, None, "unknown"), &BTreeMap::new()).is_err(),
            "no request"
        );
    }

    #[test]
    fn override_file_is_parsed_and_unknown_fields_refused() {
        let ok: BTreeMap<String, ServiceOverride> =
            serde_json::from_str(r#"{"a": {"cpu_request_query": "avg(x)"}}"#).unwrap();
        assert_eq!(ok["a"].cpu_request_query.as_deref(), Some("avg(x)"));
        assert!(serde_json::from_str::<BTreeMap<String, ServiceOverride>>(r#"{"a": {"demand": "x"}}"#).is_err());
    }

    #[test]
    fn per_service_quantile_overrides_the_default_and_is_validated() {
        let file: BTreeMap<String, ServiceOverride> =
            serde_json::from_str(r#"{"a": {"quantile": 0.99}, "b": {}}"#).unwrap();
        let c = Config {
            quantile: 0.8,
            ..config(Setup::Native, None, "a,b")
        };
        let file: BTreeMap<String, ServiceOverride> = file
            .into_iter()
            .map(|(k, mut o)| {
                o.cpu_request_cores = Some(1.0);
                (k, o)
            })
            .collect();
        let t = build_targets(&c, &file).unwrap();
        assert_eq!((t[0].quantile, t[1].quantile), (0.99, 0.8));
        for bad in [0.0, 1.0, 1.2] {
            let mut f = file.clone();
            f.get_mut("a").unwrap().quantile = Some(bad);
            let e = build_targets(&c, &f).unwrap_err().to_string();
            assert!(e.contains("a: quantile") && e.contains("between 0 and 1"), "{e}");
        }
    }
}
