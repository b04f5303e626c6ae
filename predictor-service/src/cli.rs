//! The `predictor-service` command line. Without a subcommand (or with `serve`) it runs the
//! HTTP service; `backtest` scores every model on CSV traces; `bench` times model selection
//! on synthetic series (the training-time budget of `make bench`).

use std::path::PathBuf;
use std::time::Instant;

use crate::Config;
use crate::evaluation::{EvalConfig, TraceReport, evaluate_trace, horizon_steps, summarize};
use crate::report;
use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use forecast::peak::{PeakConfig, PeakForecaster};
use forecast::series::load_csv;
use forecast::{ModelKind, SelectConfig, Series, select};
use service_kit::duration::whole_seconds as parse_duration;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "predictor-service",
    version,
    about = "Forecasts CPU demand for the autoscaler",
    // The service's flags belong to the bare command; a subcommand takes only its own.
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Flags of the service when no subcommand is given.
    #[command(flatten)]
    serve: Config,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (the default when no subcommand is given).
    Serve(Box<Config>),
    /// Score every model on CSV traces with a rolling-origin backtest.
    Backtest(BacktestArgs),
    /// Time model selection on synthetic series (one week at one-minute steps by default).
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
struct BacktestArgs {
    /// CSV trace files (`timestamp,value`, timestamps `YYYY-MM-DD HH:MM:SS`).
    #[arg(long = "trace", required = true, num_args = 1..)]
    traces: Vec<PathBuf>,
    /// Forecast horizon, e.g. `15m`, `300s`, `1h`.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    horizon: i64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Extra (opt-in) models to score and offer to the selection, e.g. `--model mstl`.
    #[arg(long = "model")]
    models: Vec<ModelKind>,
    /// Standard errors of backtest advantage a model needs to replace last value (the
    /// service's default unless given).
    #[arg(long)]
    min_advantage_se: Option<f64>,
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// Number of series.
    #[arg(long, default_value_t = 1000)]
    series: usize,
    /// Points per series.
    #[arg(long, default_value_t = 10_080)]
    points: usize,
    /// Step between points.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    step: i64,
    /// Forecast horizon.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    horizon: i64,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Candidate models (default: all), e.g. `--model linear --model seasonal`.
    #[arg(long = "model")]
    models: Vec<ModelKind>,
    /// Samples the lead-time peak forecaster is rebuilt from at each refresh (a week at
    /// 15 s: the recent day plus six days held from the season step).
    #[arg(long, default_value_t = 40_320)]
    peak_samples: usize,
}

/// Parses the command line and runs what it asks for.
pub fn run() -> anyhow::Result<()> {
    service_kit::retired::check_env()?;
    let cli = Cli::parse();
    let config = match cli.command {
        None => cli.serve,
        Some(Command::Serve(config)) => *config,
        Some(command) => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("predictor_service=info")),
                )
                .with_writer(std::io::stderr)
                .init();
            return match command {
                Command::Backtest(args) => run_backtest(&args),
                Command::Bench(args) => run_bench(&args),
                Command::Serve(_) => Ok(()),
            };
        }
    };
    serve(config)
}

/// The service runs on tokio; the CLI subcommands stay plain threads.
fn serve(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the tokio runtime")?;
    runtime.block_on(async {
        service_kit::telemetry::init(config.http.log_format, "info,predictor_service=debug");
        let server = crate::build(config).await?;
        server.run(service_kit::shutdown::signal()).await?;
        Ok(())
    })
}

fn run_backtest(args: &BacktestArgs) -> anyhow::Result<()> {
    let mut cfg = EvalConfig::with_extra_models(&args.models);
    if let Some(se) = args.min_advantage_se {
        cfg.select.min_advantage_se = se;
    }
    let started = Instant::now();
    let mut reports: Vec<TraceReport> = Vec::new();
    for path in &args.traces {
        let data = load_csv(path).with_context(|| format!("loading {}", path.display()))?;
        let name = path.display().to_string();
        let t = Instant::now();
        let report = evaluate_trace(&name, &data, args.horizon, &cfg).with_context(|| format!("evaluating {name}"))?;
        tracing::info!(
            trace = %name,
            points = data.series.len(),
            filled = data.filled,
            merged = data.merged,
            step_seconds = data.series.step_seconds(),
            selected = ?report.selected,
            elapsed_ms = t.elapsed().as_millis() as u64,
            "trace scored"
        );
        reports.push(report);
    }
    let summary = summarize(&reports);
    if args.json {
        let out = serde_json::json!({ "horizon_seconds": args.horizon, "traces": reports, "summary": summary });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!(
            "{}\n{}",
            report::table(&reports),
            report::summary(&summary, reports.len())
        );
    }
    tracing::info!(elapsed_s = started.elapsed().as_secs_f64(), "backtest done");
    Ok(())
}

/// A synthetic series: daily cycle, slow trend, and deterministic noise, varied by `seed`.
fn synthetic(seed: u64, points: usize, step: i64) -> anyhow::Result<Series> {
    // Seeded: the same seed gives the same series, so benchmark runs compare.
    let mut rng = fastrand::Rng::with_seed(seed);
    let amplitude = 5.0 + (seed % 20) as f64;
    let values = (0..points)
        .map(|i| {
            let noise = rng.f64() - 0.5;
            let t = (i as i64 * step) as f64;
            50.0 + 0.001 * i as f64 + amplitude * (t / 86_400.0 * std::f64::consts::TAU).sin() + 4.0 * noise
        })
        .collect();
    Ok(Series::new(1_700_000_000, step, values)?)
}

fn run_bench(args: &BenchArgs) -> anyhow::Result<()> {
    let h = horizon_steps(args.horizon, args.step);
    let series = (0..args.series as u64)
        .map(|seed| synthetic(seed, args.points, args.step))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut cfg = SelectConfig::default();
    if !args.models.is_empty() {
        cfg.candidates.clone_from(&args.models);
    }
    let threads = args.threads.max(1);
    let started = Instant::now();
    let chunk = series.len().div_ceil(threads).max(1);
    let fallbacks: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = series
            .chunks(chunk)
            .map(|part| {
                let cfg = &cfg;
                scope.spawn(move || {
                    part.iter()
                        .filter(|s| select(s, h, cfg).map_or(true, |f| f.fallback))
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(usize::MAX)).sum()
    });
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "trained and selected {} series x {} points (step {}s, horizon {h} steps) on {threads} threads in {elapsed:.2} s ({:.1} ms per series); fallbacks: {fallbacks}",
        args.series,
        args.points,
        args.step,
        1000.0 * elapsed * threads as f64 / args.series.max(1) as f64
    );
    // The HPA's series: the peak forecaster is rebuilt from the whole history at each refresh.
    let started = Instant::now();
    let served = series
        .iter()
        .filter(|s| {
            let values: Vec<f64> = s.values().iter().copied().cycle().take(args.peak_samples).collect();
            PeakForecaster::from_history(PeakConfig::default(), &values)
                .forecast()
                .is_some()
        })
        .count();
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "peak forecaster: rebuilt {} series x {} samples on 1 thread in {elapsed:.2} s ({:.1} ms per refresh); calibrated: {served}",
        args.series,
        args.peak_samples,
        1000.0 * elapsed / args.series.max(1) as f64
    );
    Ok(())
}
