//! Logging set-up: human-readable text on a terminal, JSON lines in production.

use tracing_subscriber::{EnvFilter, fmt};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the global subscriber. `RUST_LOG` overrides `default_filter`.
/// Calling it twice is harmless (the second call is ignored), which tests rely on.
pub fn init(format: LogFormat, default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// An error and its causes on one line, outermost first ("prometheus unreachable: error
/// sending request: connection refused"): reqwest's own message hides the cause. A cause
/// whose message the line already holds is skipped, so an error that quotes its source in
/// its own message is not repeated.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Leaf(&'static str);

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Leaf);

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Quoting(#[source] Leaf);

    #[test]
    fn the_chain_names_every_cause_once() {
        assert_eq!(
            error_chain(&Outer(Leaf("connection refused"))),
            "outer: connection refused"
        );
        assert_eq!(
            error_chain(&Quoting(Leaf("connection refused"))),
            "outer: connection refused"
        );
        assert_eq!(error_chain(&Leaf("alone")), "alone");
    }
}
