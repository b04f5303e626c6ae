//! Metric names in a PromQL expression: identifiers that are not functions, keywords, label
//! names, strings or durations. Good enough for our rules; promtool parses the rules for real.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

const WORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
    "atan2",
    "le",
];

struct Patterns {
    /// Substitutions applied in order, each with its replacement.
    strip: Vec<(Regex, &'static str)>,
    ident: Regex,
}

#[allow(clippy::expect_used, reason = "constant patterns, exercised by the tests")]
static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| {
    let re = |p: &str| Regex::new(p).expect("valid pattern");
    Patterns {
        strip: vec![
            (re(r"<<[^>]*>>"), ""),      // Prometheus Adapter templates
            (re(r"\{\{[^}]*\}\}"), "x"), // Argo / Grafana templates inside strings
            (re(r#""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`"#), r#""""#),
            (re(r"\{[^}]*\}"), ""),  // label matchers
            (re(r"\[[^\]]*\]"), ""), // range and subquery durations
            (
                re(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"),
                " ",
            ),
            (re(r"\$\w+"), ""), // Grafana variables such as $__rate_interval
        ],
        ident: re(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?"),
    }
});

/// The metric names `expr` reads.
pub(crate) fn metric_names(expr: &str) -> BTreeSet<String> {
    let p = &*PATTERNS;
    let mut e = expr.to_owned();
    for (re, with) in &p.strip {
        e = re.replace_all(&e, *with).into_owned();
    }
    let mut names = BTreeSet::new();
    for c in p.ident.captures_iter(&e) {
        let (Some(word), call) = (c.get(1), c.get(2)) else {
            continue;
        };
        // An identifier glued to a word character, `.` or `:` is part of a number or name.
        let glued = e[..word.start()]
            .chars()
            .next_back()
            .is_some_and(|ch| ch.is_alphanumeric() || ch == '_' || ch == '.' || ch == ':');
        let w = word.as_str();
        if glued || call.is_some() || WORDS.contains(&w.to_lowercase().as_str()) {
            continue;
        }
        names.insert(w.to_owned());
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(e: &str) -> Vec<String> {
        metric_names(e).into_iter().collect()
    }

    #[test]
    fn functions_labels_strings_and_durations_are_not_metric_names() {
        assert_eq!(
            names(r#"sum by (service) (rate(http_requests_total{route!~"/health"}[5m])) / on(service) up"#),
            ["http_requests_total", "up"]
        );
        assert_eq!(
            names("histogram_quantile(0.95, sum by (le) (x_bucket)) > 1e3"),
            ["x_bucket"]
        );
        assert_eq!(
            names("100 * service:cpu_cores:rate1m offset 5m"),
            ["service:cpu_cores:rate1m"]
        );
        assert_eq!(
            names(r#"sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"#),
            Vec::<String>::new()
        );
        assert_eq!(names("rate(a[$__rate_interval]) and bool b"), ["a", "b"]);
    }
}
