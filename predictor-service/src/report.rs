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
    let mut table = service_kit::table::text(1, ["trace", "h", "model", "MAE", "sMAPE%", "MASE", "cov90", "mark"]);
    // The model and mark are words too.
    for column in [2, 7] {
        if let Some(c) = table.column_mut(column) {
            c.set_cell_alignment(service_kit::table::CellAlignment::Left);
        }
    }
    for r in reports {
        for s in &r.scores {
            let mut mark = String::new();
            if r.best == Some(s.model) {
                mark.push('*');
            }
            if r.selected == Some(s.model) {
                mark.push_str(if r.selected_fallback { " sel(fallback)" } else { " sel" });
            }
            table.add_row([
                short_name(&r.trace),
                r.horizon_steps.to_string(),
                s.model.as_str().to_owned(),
                num(s.mae, 3),
                num(s.smape, 2),
                num(s.mase, 3),
                num(s.coverage, 3),
                mark.trim().to_owned(),
            ]);
        }
    }
    format!("{}\n", table.trim_fmt())
}

/// Renders the summary: medians over traces per model and for the selection.
pub fn summary(rows: &[ModelSummary], traces: usize) -> String {
    let mut table = service_kit::table::text(1, ["model", "traces", "median MASE", "median sMAPE%", "mean cov90"]);
    for r in rows {
        table.add_row([
            r.model.to_string(),
            r.traces.to_string(),
            num(r.median_mase, 3),
            num(r.median_smape, 2),
            num(r.mean_coverage, 3),
        ]);
    }
    let mut out = format!("summary over {traces} traces\n{}\n", table.trim_fmt());
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

    #[test]
    fn summary_lists_every_model_in_aligned_columns() {
        let row = |model: &'static str, mase: f64| ModelSummary {
            model: model.into(),
            traces: 3,
            median_mase: Some(mase),
            median_smape: Some(10.0),
            mean_coverage: Some(0.9),
        };
        let text = summary(&[row("last_value", 1.094), row("holt_winters", 0.931)], 3);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "summary over 3 traces");
        assert!(lines[1].contains("median MASE"), "{text}");
        let hw = lines
            .iter()
            .find(|l| l.contains("holt_winters"))
            .unwrap_or_else(|| panic!("{text}"));
        let lv = lines
            .iter()
            .find(|l| l.contains("last_value"))
            .unwrap_or_else(|| panic!("{text}"));
        // Right-aligned numbers end in the same column.
        assert_eq!(
            hw.find("0.931").map(|i| i + 5),
            lv.find("1.094").map(|i| i + 5),
            "{text}"
        );
    }
}
