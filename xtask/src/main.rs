//! `cargo xtask <command>`: the repository's own checks of its deployment and monitoring files,
//! the ones no off-the-shelf tool does (`scripts/check-deploy.sh` runs the off-the-shelf ones
//! and then these). Each command prints what it checked and exits 1 with `FAIL:` and the file
//! and field of the first problem.
//!
//! Tiers and policies are written once, in `config/tiers.json` (read by cost-optimizer as its
//! defaults); `tiers` holds the k8s requests, HPA bounds and recording rules to that file.
//!
//! Output goes to stdout with `println!` rather than `tracing`: it is the command's product,
//! read by people and by check-deploy.sh, not a log.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

mod adapter;
mod autoscaling;
mod dashboards;
mod docs;
mod layout;
mod metrics;
mod prom;
mod promql;
mod secrets;
mod tiers;

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    about = "The repository's own deploy and monitoring checks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Deployments' CPU and memory requests, HPAs' replica bounds, the tier recording rules and
    /// config/native-cost-policy.json against config/tiers.json.
    Tiers {
        /// `kubectl kustomize k8s` output.
        rendered: PathBuf,
    },
    /// Prints the `service:cpu_request_cores:tier` recording rules for config/tiers.json, in
    /// recording.yml's layout (the `tiers` check compares them).
    TierRules,
    /// The adapter rules ConfigMap in k8s/ carries exactly monitoring/prometheus-adapter/rules.yaml.
    AdapterDrift,
    /// Grafana dashboards: valid JSON, unique uids, every target has an expr and the provisioned
    /// datasource.
    Dashboards,
    /// Every PromQL expression uses listed metrics or recording rules; HPAs read adapter-served
    /// names; listed metrics are still exported by their crate.
    MetricNames {
        /// Rendered manifests and the custom resources.
        rendered: Vec<PathBuf>,
    },
    /// Each scaled workload has exactly one autoscaler, and no Rollout takes over a scaled one.
    AutoscalingConflicts {
        /// Rendered manifests and the custom resources.
        rendered: Vec<PathBuf>,
    },
    /// Every HPA uses config/hpa-behavior.json and reads the forecast as predicted_cpu_cores with
    /// an AverageValue target at its CPU target's share of the request.
    HpaBehavior {
        /// Rendered manifest files, or LABEL=FILE to name one LABEL.
        rendered: Vec<String>,
    },
    /// `kubectl apply -f k8s` and `kubectl apply -k k8s` apply the same files.
    ApplyFLayout,
    /// Writes a kustomization rendering k8s/ as the Argo CD Application does.
    ArgoOverlay {
        /// Directory to write kustomization.yaml into.
        outdir: PathBuf,
    },
    /// One JSON line per Argo CD Application/AppProject, for deploy/validate-argocd.js.
    ArgocdJson {
        /// Files to read.
        paths: Vec<PathBuf>,
    },
    /// One JSON line per ScaledObject/TriggerAuthentication/Rollout/AnalysisTemplate, for deploy/crd_schemas.py.
    CrdJson {
        /// Files to read.
        paths: Vec<PathBuf>,
    },
    /// No literal password, key or token in docker-compose.yml or k8s/; the postgres-init
    /// ConfigMap == deploy/postgres-init.sh; compose reads only what `make compose-env` writes.
    Secrets {
        /// The Secrets k8s/secrets/ renders (from throwaway values): every Secret key the
        /// RENDERED manifests read must be among them.
        #[arg(long)]
        generated: Option<PathBuf>,
        /// Rendered manifests and custom resources, checked against --generated.
        rendered: Vec<PathBuf>,
    },
    /// Checks kubernetes_sd_configs blocks and writes a copy without them for promtool.
    PromK8sConfig {
        /// monitoring/prometheus/prometheus.k8s.yml
        src: PathBuf,
        /// Where to write the copy.
        out: PathBuf,
    },
}

/// The workspace root: where config/, k8s/ and monitoring/ are.
fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Runs one command. The repository's files are found from the crate's own location; paths
/// given as arguments are taken as given (relative to the caller's directory).
fn run(command: Command) -> Result<Vec<String>> {
    let root = root();
    match command {
        Command::Tiers { rendered } => tiers::run(&root, &rendered),
        Command::TierRules => tiers::run_rules(&root),
        Command::AdapterDrift => adapter::run(&root),
        Command::Dashboards => dashboards::run(&root),
        Command::MetricNames { rendered } => metrics::run(&root, &rendered),
        Command::AutoscalingConflicts { rendered } => autoscaling::run_conflicts(&rendered),
        Command::HpaBehavior { rendered } => autoscaling::run_behavior(&root, &rendered),
        Command::ApplyFLayout => layout::apply_f_layout(&root),
        Command::ArgoOverlay { outdir } => layout::argo_overlay(&root, &outdir),
        Command::ArgocdJson { paths } => layout::json_lines(&paths, layout::ARGOCD_KINDS),
        Command::CrdJson { paths } => layout::json_lines(&paths, layout::CRD_KINDS),
        Command::PromK8sConfig { src, out } => prom::run(&src, &out),
        Command::Secrets { generated, rendered } => secrets::run(&root, generated.as_deref(), &rendered),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("FAIL: {e:#}");
            ExitCode::FAILURE
        }
    }
}
