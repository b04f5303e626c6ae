//! The SVG chart (plotters): one panel per trace with the demand and each policy's ready
//! capacity over time. Series are averaged into at most `width` buckets, so a short shortfall
//! in a multi-week trace shows as a dent rather than a gap; the tables carry the exact numbers.

use plotters::prelude::*;

use super::TraceResult;

const PANEL_HEIGHT: u32 = 220;
const COLOURS: [RGBColor; 3] = [
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0x2c, 0xa0, 0x2c),
];

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

/// Renders the chart. Needs results simulated with `keep_series`; demand is taken from the trace.
pub fn chart(results: &[TraceResult], width: usize) -> Result<String, DrawingAreaErrorKind<std::io::Error>> {
    let mut out = String::new();
    let panels = results.len().max(1) as u32;
    let size = (width as u32 + 80, PANEL_HEIGHT * panels);
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE)?;
        for (area, t) in root.split_evenly((results.len().max(1), 1)).iter().zip(results) {
            panel(area, t, width)?;
        }
        root.present()?;
    }
    Ok(out)
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    t: &TraceResult,
    width: usize,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let demand = buckets(&t.trace.values, width);
    let series: Vec<Vec<f64>> = t.results.iter().map(|p| buckets(&p.ready_series, width)).collect();
    let y_max = series.iter().flatten().chain(&demand).copied().fold(1.0, f64::max) * 1.05;
    let x_max = demand.len().max(2) - 1;
    let hours_per_point = t.hours / x_max as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} ({:.0} h)", t.trace.name, t.hours), ("sans-serif", 14))
        .margin(8)
        .x_label_area_size(24)
        .y_label_area_size(40)
        .build_cartesian_2d(0.0..t.hours, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("hours")
        .y_desc("pods")
        .light_line_style(WHITE)
        .draw()?;
    let points = |values: &[f64]| -> Vec<(f64, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (i as f64 * hours_per_point, *v))
            .collect()
    };
    for (i, (p, s)) in t.results.iter().zip(&series).enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(points(s), colour))?
            .label(format!("{} ready", p.policy.name()))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour));
    }
    chart
        .draw_series(LineSeries::new(points(&demand), BLACK.stroke_width(2)))?
        .label("demand")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK.stroke_width(2)));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::simulate::{PolicyResult, Strategy};
    use crate::trace::Trace;

    #[test]
    fn buckets_average_and_bound_the_length() {
        assert_eq!(buckets(&[1.0, 3.0, 5.0, 7.0], 2), vec![2.0, 6.0]);
        assert_eq!(buckets(&[1.0; 1000], 300).len(), 250);
        assert!(buckets(&[], 10).is_empty());
    }

    fn traced(name: &str) -> TraceResult {
        let ready = PolicyResult {
            policy: Strategy::Reactive,
            pod_hours: 1.0,
            cost_usd: 1.0,
            underprovisioned_minutes: 0.0,
            underprovisioned_time_share: 0.0,
            unserved_demand_share: 0.0,
            peak_shortfall_pods: 0.0,
            scaling_events: 0,
            forecast_fallbacks: 0,
            forecast_coverage: None,
            ready_series: vec![2.0, 2.0, 3.0, 4.0],
        };
        TraceResult {
            trace: Trace {
                name: name.into(),
                source_step_seconds: 60.0,
                step_seconds: 15.0,
                interpolation: forecast::trace::Interpolation::Linear,
                values: vec![1.0, 2.0, 3.0, 2.5],
            },
            hours: 1.0,
            peak_pods: 3.0,
            results: vec![ready],
        }
    }

    #[test]
    fn trace_names_are_escaped_and_every_series_is_drawn() {
        let svg = chart(&[traced("a<b>&c"), traced("plain")], 100).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(!svg.contains("a<b>&c"), "{svg}");
        assert!(svg.contains("a&lt;b&gt;&amp;c"), "{svg}");
        // Two panels, each with a reactive line and a demand line, and a legend mark of each.
        let lower = svg.to_lowercase();
        assert_eq!(lower.matches(r##"stroke="#d62728""##).count(), 4, "{svg}");
        assert_eq!(
            lower.matches(r##"stroke="#000000" stroke-width="2""##).count(),
            4,
            "{svg}"
        );
        assert!(svg.contains("reactive ready") && svg.contains("demand"));
    }
}
