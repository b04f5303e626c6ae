//! Plain-text rendering of backtest results: one row per trace and model, then a summary.
//! The CLI prints it to stdout (logs go to stderr through `tracing`).

use std::fmt::Write as _;

use crate::evaluation::{ModelSummary, TraceReport, ratio_to_best_peer};

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
}

/// Renders the per-trace table. `winner` marks the lowest MASE in hindsight (`*`); `selected`
/// marks the model chosen from the data before the evaluation window (`sel`).
pub fn table(reports: &[TraceReport]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<48} {:>5} {:<15} {:>12} {:>8} {:>7} {:>7}  mark",
        "trace", "h", "model", "MAE", "sMAPE%", "MASE", "cov90"
    );
    for r in reports {
        for s in &r.scores {
            let mut mark = String::new();
            if r.best == Some(s.model) {
                mark.push('*');
            }
            if r.selected == Some(s.model) {
                mark.push_str(if r.selected_fallback { " sel(fallback)" } else { " sel" });
            }
            let _ = writeln!(
                out,
                "{:<48} {:>5} {:<15} {:>12} {:>8} {:>7} {:>7}  {}",
                short_name(&r.trace),
                r.horizon_steps,
                s.model.as_str(),
                num(s.mae, 3),
                num(s.smape, 2),
                num(s.mase, 3),
                num(s.coverage, 3),
                mark.trim()
            );
        }
    }
    out
}

/// Renders the summary: medians over traces per model and for the selection.
pub fn summary(rows: &[ModelSummary], traces: usize) -> String {
    let mut out = format!("summary over {traces} traces\n");
    let _ = writeln!(
        out,
        "{:<15} {:>7} {:>12} {:>13} {:>14}",
        "model", "traces", "median MASE", "median sMAPE%", "mean cov90"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<15} {:>7} {:>12} {:>13} {:>14}",
            r.model,
            r.traces,
            num(r.median_mase, 3),
            num(r.median_smape, 2),
            num(r.mean_coverage, 3)
        );
    }
    if let Some((ratio, peer)) = ratio_to_best_peer(rows) {
        let _ = writeln!(
            out,
            "selected / best peer ({peer}) median MASE: {ratio:.3} (target <= 0.900; peers: last_value, seasonal_naive, linear, holt_winters)"
        );
    }
    out
}

/// The last two path components (`realTraffic/speed_6005.csv`), enough to tell traces apart.
fn short_name(path: &str) -> String {
    let parts: Vec<&str> = path.rsplit('/').take(2).collect();
    parts.into_iter().rev().collect::<Vec<_>>().join("/")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn short_name_keeps_folder_and_file() {
        assert_eq!(short_name("/a/b/nab/realTraffic/x.csv"), "realTraffic/x.csv");
        assert_eq!(short_name("x.csv"), "x.csv");
        assert_eq!(num(None, 2), "-");
        assert_eq!(num(Some(1.23456), 2), "1.23");
    }
}
