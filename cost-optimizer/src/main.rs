//! `cost-optimizer` binary. Without a subcommand (or with `serve`) it runs the HTTP service, so
//! that container images and manifests need no arguments; `simulate` replays traces through
//! autoscaling policies.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context as _, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use cost_optimizer::Config;
use cost_optimizer::config::parse_seconds;
use cost_optimizer::forecast::{Forecaster, LastValueTrend, PredictorConfig, PredictorForecaster};
use cost_optimizer::pricing::{CostModel, Pricing};
use cost_optimizer::report::{summarize, summary_table, trace_table};
use cost_optimizer::simulate::{PolicyKind, SimConfig, TraceResult, simulate};
use cost_optimizer::trace::Trace;

/// Prices resources, decides scaling, and simulates autoscaling policies.
#[derive(Debug, Parser)]
// Server flags before a subcommand would be silently ignored by it: refuse them instead.
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The server's flags, used when no subcommand is given.
    #[command(flatten)]
    serve: Config,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (the default without a subcommand).
    Serve(Config),
    /// Replay demand traces through reactive, predictive and cost-aware scaling.
    Simulate(SimulateArgs),
}

#[derive(Debug, Args)]
struct SimulateArgs {
    /// Trace CSV files (`timestamp,value`).
    #[arg(long, num_args = 1.., required = true)]
    trace: Vec<PathBuf>,
    /// Policies to compare, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "reactive,predictive,cost-aware")]
    policy: Vec<PolicyKind>,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Write an SVG chart of demand and each policy's ready capacity.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Width of the SVG plot area in pixels (also the number of points per line).
    #[arg(long, default_value_t = 1000)]
    svg_width: usize,
    /// Pod start-up delay (e.g. 60s, 2m).
    #[arg(long, default_value = "60s", value_parser = parse_seconds)]
    startup_delay: f64,
    /// How far ahead forecasts are used for scale-ups.
    #[arg(long, default_value = "120s", value_parser = parse_seconds)]
    lead: f64,
    /// Forecaster of the predictive and cost-aware policies.
    #[arg(long, value_enum, default_value_t = ForecasterKind::Predictor)]
    forecaster: ForecasterKind,
    /// Step of the series the predictor's models see (a multiple of 15 s).
    #[arg(long, default_value = "5m", value_parser = parse_seconds)]
    model_step: f64,
    /// Simulated time between two model selections (backtests) of the predictor.
    #[arg(long, default_value = "6h", value_parser = parse_seconds)]
    reselect: f64,
    /// Demand is scaled so that the trace's peak needs this many pods of capacity 1.
    #[arg(long, default_value_t = 10.0)]
    peak_pods: f64,
    /// Target CPU utilization for every policy (fraction).
    #[arg(long, default_value_t = 0.7)]
    target: f64,
    /// Pod tier used to price pod-hours.
    #[arg(long, default_value = "medium")]
    tier: String,
    /// Optional pricing file (JSON: pricing, tiers, services).
    #[arg(long, env = "COST_PRICING_FILE")]
    pricing_file: Option<PathBuf>,
    /// Override the price of a CPU core-hour (USD).
    #[arg(long, env = "COST_CPU_CORE_HOUR")]
    cpu_core_hour: Option<f64>,
    /// Override the price of a GiB-hour of memory (USD).
    #[arg(long, env = "COST_MEMORY_GIB_HOUR")]
    memory_gib_hour: Option<f64>,
}

/// Which model forecasts demand in the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ForecasterKind {
    /// The predictor service's models: selection by backtest every `--reselect`, refit per
    /// `--model-step` bucket with the selection's error bands.
    Predictor,
    /// Last value plus the damped recent trend (this crate's own, for comparison).
    LastValueTrend,
}

impl ForecasterKind {
    /// The flag's spelling, for reports.
    fn name(self) -> &'static str {
        match self {
            Self::Predictor => "predictor",
            Self::LastValueTrend => "last-value-trend",
        }
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.serve),
        Some(Command::Serve(config)) => serve(config),
        Some(Command::Simulate(args)) => run_simulate(&args),
    }
}

/// The runtime is built here rather than with `#[tokio::main]` so that `simulate`, which runs
/// on its own threads, does not start one.
fn serve(config: Config) -> Result<()> {
    service_kit::telemetry::init(config.http.log_format, "info,cost_optimizer=debug");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = cost_optimizer::build(config).await?;
        server.run(service_kit::shutdown::signal()).await?;
        Ok(())
    })
}

fn run_simulate(args: &SimulateArgs) -> Result<()> {
    let model = CostModel::load(args.pricing_file.as_deref())?;
    let pricing: Pricing = model.pricing.with_overrides(args.cpu_core_hour, args.memory_gib_hour)?;
    let tier = model.tiers.get(&args.tier)?;
    anyhow::ensure!(args.target > 0.0 && args.target <= 1.0, "--target must be in (0, 1]");
    anyhow::ensure!(args.peak_pods > 0.0, "--peak-pods must be positive");
    anyhow::ensure!(
        args.model_step >= 15.0 && args.reselect >= args.model_step,
        "--model-step must be at least 15s and --reselect at least --model-step"
    );
    let config = SimConfig {
        startup_delay_seconds: args.startup_delay,
        lead_seconds: args.lead,
        target_utilization: args.target,
        max_replicas: ((args.peak_pods / args.target).ceil() as u32).saturating_mul(3).max(10),
        pod_hour_usd: pricing.tier_hourly(tier),
        ..SimConfig::default()
    };
    let started = Instant::now();
    let results = run_all(args, &config)?;
    let summary = summarize(&results);
    let mut out = std::io::stdout().lock();
    if args.json {
        let forecaster = serde_json::json!({
            "name": args.forecaster.name(),
            "model_step_seconds": args.model_step,
            "reselect_seconds": args.reselect,
        });
        let doc =
            serde_json::json!({ "config": config, "forecaster": forecaster, "traces": results, "summary": summary });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        for r in &results {
            writeln!(out, "{}", trace_table(r))?;
        }
        writeln!(
            out,
            "summary over {} traces ({} forecaster, peak {} pods, start-up {} s, lead {} s, {} pods at {:.6} USD/h)\n",
            results.len(),
            args.forecaster.name(),
            args.peak_pods,
            args.startup_delay,
            args.lead,
            tier.name,
            config.pod_hour_usd
        )?;
        write!(out, "{}", summary_table(&summary))?;
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, cost_optimizer::svg::chart(&results, args.svg_width))
            .with_context(|| format!("failed to write {}", path.display()))?;
    }
    // Timing goes to stderr so that stdout stays a clean table or JSON document.
    eprintln!(
        "simulated {} traces in {:.1} s",
        results.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs traces on all cores; each worker takes the next trace, so one long trace does not
/// leave the other cores idle at the end.
fn run_all(args: &SimulateArgs, config: &SimConfig) -> Result<Vec<TraceResult>> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Result<TraceResult>>>> = Mutex::new((0..args.trace.len()).map(|_| None).collect());
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(args.trace.len());
    let predictor = PredictorConfig {
        model_step_seconds: args.model_step,
        reselect_seconds: args.reselect,
        ..PredictorConfig::default()
    };
    let factory = |_: &[f64]| match args.forecaster {
        ForecasterKind::Predictor => Box::new(PredictorForecaster::new(predictor.clone())) as Box<dyn Forecaster>,
        ForecasterKind::LastValueTrend => Box::new(LastValueTrend::default()),
    };
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = args.trace.get(i) else { break };
                    let result = Trace::load(path, config.step_seconds)
                        .and_then(|t| t.scaled_to_peak(args.peak_pods))
                        .map(|t| simulate(&t, config, &args.policy, &factory, args.svg.is_some()))
                        .with_context(|| format!("trace {}", path.display()));
                    if let Ok(mut slots) = slots.lock()
                        && let Some(slot) = slots.get_mut(i)
                    {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    let slots = slots
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a simulation thread panicked"))?;
    slots
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(anyhow::anyhow!("a trace was not simulated"))))
        .collect()
}
