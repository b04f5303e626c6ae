//! A hand-written SVG chart: one panel per trace with the demand and each policy's ready
//! capacity over time. Series are averaged into at most `width` buckets, so a short shortfall
//! in a multi-week trace shows as a dent rather than a gap; the tables carry the exact numbers.

use std::fmt::Write as _;

use super::TraceResult;

const PANEL_HEIGHT: f64 = 180.0;
const MARGIN: f64 = 40.0;
const COLOURS: [&str; 3] = ["#d62728", "#1f77b4", "#2ca02c"];

fn buckets(series: &[f64], n: usize) -> Vec<f64> {
    if series.is_empty() || n == 0 {
        return Vec::new();
    }
    let size = series.len().div_ceil(n);
    series
        .chunks(size)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect()
}

/// Draws one series in the panel whose top edge is `y0`; the panel spans `MARGIN..MARGIN + w`.
fn polyline(out: &mut String, values: &[f64], y0: f64, w: f64, y_max: f64, colour: &str, width: f64) {
    let dx = if values.len() > 1 {
        w / (values.len() - 1) as f64
    } else {
        0.0
    };
    let _ = write!(
        out,
        r#"<polyline fill="none" stroke="{colour}" stroke-width="{width}" points=""#
    );
    for (i, v) in values.iter().enumerate() {
        let _ = write!(
            out,
            "{:.1},{:.1} ",
            MARGIN + i as f64 * dx,
            y0 + PANEL_HEIGHT - v / y_max * PANEL_HEIGHT
        );
    }
    out.push_str("\"/>\n");
}

/// Renders the chart. Needs results simulated with `keep_series`; demand is taken from the trace.
pub fn chart(results: &[TraceResult], width: usize) -> String {
    let w = width as f64;
    let panel = PANEL_HEIGHT + MARGIN * 1.5;
    let height = MARGIN + panel * results.len() as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" font-family="sans-serif" font-size="12">"#,
        w + 2.0 * MARGIN
    );
    out.push_str(r#"<rect width="100%" height="100%" fill="white"/>"#);
    out.push('\n');
    let mut lx = MARGIN;
    let _ = writeln!(out, r#"<text x="{lx}" y="20" font-weight="bold">demand</text>"#);
    let policies = results.first().map(|r| r.results.as_slice()).unwrap_or_default();
    for (i, p) in policies.iter().enumerate() {
        lx += 90.0;
        let c = COLOURS[i % COLOURS.len()];
        let _ = writeln!(
            out,
            r#"<text x="{lx}" y="20" fill="{c}">{} ready</text>"#,
            p.policy.name()
        );
    }
    for (k, t) in results.iter().enumerate() {
        let y0 = MARGIN + k as f64 * panel + MARGIN * 0.5;
        let demand = buckets(&t.trace.values, width);
        let series: Vec<Vec<f64>> = t.results.iter().map(|p| buckets(&p.ready_series, width)).collect();
        let y_max = series.iter().flatten().chain(&demand).copied().fold(1.0, f64::max) * 1.05;
        let _ = writeln!(
            out,
            r#"<text x="{MARGIN}" y="{:.1}">{} ({:.0} h; pods, 0 to {:.0})</text>"#,
            y0 - 6.0,
            t.trace.name,
            t.hours,
            y_max
        );
        let _ = writeln!(
            out,
            r##"<rect x="{MARGIN}" y="{y0:.1}" width="{w}" height="{PANEL_HEIGHT}" fill="none" stroke="#ccc"/>"##
        );
        for (i, s) in series.iter().enumerate() {
            polyline(&mut out, s, y0, w, y_max, COLOURS[i % COLOURS.len()], 1.0);
        }
        polyline(&mut out, &demand, y0, w, y_max, "black", 1.2);
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn buckets_average_and_bound_the_length() {
        assert_eq!(buckets(&[1.0, 3.0, 5.0, 7.0], 2), vec![2.0, 6.0]);
        assert_eq!(buckets(&[1.0; 1000], 300).len(), 250);
        assert!(buckets(&[], 10).is_empty());
    }
}
