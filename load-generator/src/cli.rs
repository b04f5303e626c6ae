//! Command-line interface: traffic shapes as subcommands, run options shared by all of them.
//!
//! Run options are `global`, so they may come before or after the subcommand. Service URLs also
//! come from the environment, as under Kubernetes or `make up`.

use crate::auth::Bearer;
use crate::scenario::{ScenarioKind, ServiceFocus};
use crate::shape::Shape;
use crate::trace::TraceRate;
use anyhow::bail;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Open-loop load generator for the shop services.
#[derive(Debug, Parser)]
#[command(name = "load-generator", version, about)]
pub struct Cli {
    /// Traffic shape (or `bench-target`).
    #[command(subcommand)]
    pub command: Command,
    /// Options for every shape.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Traffic shapes; every rate is in actions per second.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// A constant rate.
    Steady {
        /// Rate.
        #[arg(long)]
        rps: f64,
    },
    /// A straight line from one rate to another over the run.
    Ramp {
        /// Rate at the start.
        #[arg(long)]
        from: f64,
        /// Rate at the end.
        #[arg(long)]
        to: f64,
    },
    /// A base rate with a burst at the end of every period (the first burst ends at `--every`).
    Burst {
        /// Rate between bursts.
        #[arg(long, default_value_t = 10.0)]
        base: f64,
        /// Rate during bursts.
        #[arg(long, default_value_t = 100.0)]
        peak: f64,
        /// Period of the bursts.
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        every: Duration,
        /// Length of each burst.
        #[arg(long, default_value = "10s", value_parser = parse_duration)]
        length: Duration,
    },
    /// A base rate with one spike.
    Spike {
        /// Rate outside the spike.
        #[arg(long, default_value_t = 10.0)]
        base: f64,
        /// Rate during the spike.
        #[arg(long, default_value_t = 200.0)]
        peak: f64,
        /// When the spike starts (default: 40% into the run).
        #[arg(long, value_parser = parse_duration)]
        at: Option<Duration>,
        /// Length of the spike.
        #[arg(long, default_value = "10s", value_parser = parse_duration)]
        length: Duration,
    },
    /// A compressed day: raised cosine from the minimum (start) to the maximum (mid-period).
    Diurnal {
        /// Lowest rate.
        #[arg(long, default_value_t = 5.0)]
        min: f64,
        /// Highest rate.
        #[arg(long, default_value_t = 100.0)]
        max: f64,
        /// Length of one day.
        #[arg(long, default_value = "60s", value_parser = parse_duration)]
        period: Duration,
    },
    /// Replay a `timestamp,value` CSV trace as a rate (default duration: the whole replayed trace).
    Replay {
        /// The CSV file (`YYYY-MM-DD HH:MM:SS,value` rows).
        #[arg(long)]
        trace: PathBuf,
        /// Time compression: 60 replays a minute of trace in a second.
        #[arg(long, default_value_t = 60.0)]
        speedup: f64,
        /// The rate the trace's largest value maps to.
        #[arg(long)]
        peak_rps: f64,
    },
    /// Serve a trivial endpoint (GET / -> "ok") to measure the generator's own ceiling.
    BenchTarget {
        /// Address to bind; port 0 picks a free port. The address is printed on stdout.
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: SocketAddr,
    },
}

/// Options shared by every shape.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Length of the run, e.g. `90s`, `2m` (default 60s; for replay, the replayed trace).
    #[arg(long, global = true, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Action mix.
    #[arg(long, global = true, value_enum, default_value = "mixed")]
    pub scenario: ScenarioKind,
    /// Custom mix replacing the scenario, e.g. `product=70,journey=30`. Actions: list, product,
    /// register, user, order, read-order, journey.
    #[arg(long, global = true)]
    pub weights: Option<String>,
    /// Aim all load at one service (overrides --scenario).
    #[arg(long, global = true, value_enum)]
    pub service: Option<ServiceFocus>,
    /// GET this URL instead of a shop scenario (benchmarks, tests).
    #[arg(long, global = true)]
    pub url: Option<String>,
    /// user-service base URL.
    #[arg(
        long,
        global = true,
        env = "USER_SERVICE_URL",
        default_value = "http://127.0.0.1:8001"
    )]
    pub user_url: String,
    /// catalog-service base URL.
    #[arg(
        long,
        global = true,
        env = "CATALOG_SERVICE_URL",
        default_value = "http://127.0.0.1:8002"
    )]
    pub catalog_url: String,
    /// order-service base URL.
    #[arg(
        long,
        global = true,
        env = "ORDER_SERVICE_URL",
        default_value = "http://127.0.0.1:8003"
    )]
    pub order_url: String,
    /// Admin token for --seed (products and stock are admin writes). The shop scenarios need no
    /// other: the run registers its own customers and logs them in.
    #[arg(long, global = true, env = "ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<Bearer>,
    /// File holding the admin token, e.g. .run/admin-token (`make up` writes it); wins over
    /// --admin-token.
    #[arg(long, global = true, env = "ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// Create products with ample stock (and users) first, so the run works on an empty platform.
    /// Needs an admin token.
    #[arg(long, global = true)]
    pub seed: bool,
    /// Products to create with --seed.
    #[arg(long, global = true, default_value_t = 50)]
    pub seed_products: usize,
    /// Stock of each seeded product.
    #[arg(long, global = true, default_value_t = 1_000_000)]
    pub seed_stock: u64,
    /// Users to create when the mix needs existing users (created even without --seed).
    #[arg(long, global = true, default_value_t = 50)]
    pub seed_users: usize,
    /// Most actions in flight at once; more are held back (and counted) until one finishes.
    #[arg(long, global = true, default_value_t = 1000)]
    pub max_in_flight: usize,
    /// Per-request timeout.
    #[arg(long, global = true, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Write the summary as JSON to this file.
    #[arg(long, global = true)]
    pub json: Option<PathBuf>,
    /// Exit with status 2 when errors / requests exceeds this fraction (e.g. 0.01).
    #[arg(long, global = true)]
    pub max_error_rate: Option<f64>,
    /// No progress line.
    #[arg(long, global = true)]
    pub quiet: bool,
}

impl Command {
    /// The shape and the run length for a traffic subcommand; `None` for `bench-target`.
    pub fn shape(&self, duration: Option<Duration>) -> anyhow::Result<Option<(Shape, Duration)>> {
        let default = Duration::from_secs(60);
        let secs = |d: Duration| d.as_secs_f64();
        let shape = match self {
            Command::Steady { rps } => Shape::Steady { rps: *rps },
            Command::Ramp { from, to } => Shape::Ramp { from: *from, to: *to },
            Command::Burst {
                base,
                peak,
                every,
                length,
            } => {
                if length > every {
                    bail!("--length must not exceed --every");
                }
                Shape::Burst {
                    base: *base,
                    peak: *peak,
                    every: secs(*every),
                    length: secs(*length),
                }
            }
            Command::Spike { base, peak, at, length } => {
                let at = at.unwrap_or_else(|| duration.unwrap_or(default).mul_f64(0.4));
                Shape::Spike {
                    base: *base,
                    peak: *peak,
                    at: secs(at),
                    length: secs(*length),
                }
            }
            Command::Diurnal { min, max, period } => Shape::Diurnal {
                min: *min,
                max: *max,
                period: secs(*period),
            },
            Command::Replay {
                trace,
                speedup,
                peak_rps,
            } => {
                let trace = TraceRate::from_file(trace, *speedup, *peak_rps)?;
                let length = Duration::from_secs_f64(trace.duration_secs());
                return Ok(Some((Shape::Replay(trace), duration.unwrap_or(length))));
            }
            Command::BenchTarget { .. } => return Ok(None),
        };
        Ok(Some((shape, duration.unwrap_or(default))))
    }
}

/// A duration in the platform's one grammar, humantime's (`500ms`, `90s`, `2m`, `1h 30m`);
/// a unit is required.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    humantime::parse_duration(text)
        .map_err(|e| format!("bad duration {text:?} ({e}): expected e.g. 500ms, 90s, 2m, 1h"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_duration("7").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn options_go_before_or_after_the_shape() {
        let cli = Cli::try_parse_from(["lg", "--duration", "5s", "steady", "--rps", "3", "--seed"]).unwrap();
        assert_eq!(cli.run.duration, Some(Duration::from_secs(5)));
        assert!(cli.run.seed);
        let (shape, duration) = cli.command.shape(cli.run.duration).unwrap().unwrap();
        assert_eq!(duration, Duration::from_secs(5));
        assert_eq!(shape.rate_at(1.0, 5.0), 3.0);
    }

    #[test]
    fn takes_an_admin_token_or_its_file() {
        let cli = Cli::try_parse_from(["lg", "steady", "--rps", "1", "--admin-token", "a.b.c"]).unwrap();
        assert_eq!(cli.run.admin_token, Some("a.b.c".parse().unwrap()));
        assert!(!format!("{cli:?}").contains("a.b.c"));
        let cli = Cli::try_parse_from(["lg", "--admin-token-file", "t", "steady", "--rps", "1"]).unwrap();
        assert_eq!(cli.run.admin_token_file, Some(PathBuf::from("t")));
        assert!(Cli::try_parse_from(["lg", "steady", "--rps", "1", "--admin-token", " "]).is_err());
    }

    #[test]
    fn spike_defaults_to_forty_percent_in() {
        let cli = Cli::try_parse_from(["lg", "spike", "--duration", "100s"]).unwrap();
        let (shape, _) = cli.command.shape(cli.run.duration).unwrap().unwrap();
        assert_eq!(shape.rate_at(39.9, 100.0), 10.0);
        assert_eq!(shape.rate_at(40.0, 100.0), 200.0);
    }

    #[test]
    fn burst_rejects_a_burst_longer_than_its_period() {
        let cli = Cli::try_parse_from(["lg", "burst", "--every", "5s", "--length", "6s"]).unwrap();
        assert!(cli.command.shape(None).is_err());
    }
}
