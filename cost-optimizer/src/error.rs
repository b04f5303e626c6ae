//! The crate's one error type. The HTTP layer maps `UnknownService` to 404 and the
//! configuration and trace variants to 422 or startup failures.

use std::path::PathBuf;

/// Everything the pure domain can refuse.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file (pricing file or trace) could not be read.
    #[error("failed to read {path}")]
    Io {
        /// The file that failed.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The pricing file is not valid JSON for [`crate::pricing::CostModel`].
    #[error("invalid pricing file: {0}")]
    PricingJson(#[from] serde_json::Error),
    /// A configuration value is out of range (negative price, min > max replicas, ...).
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A policy names a tier that the tier catalog does not hold.
    #[error("unknown tier {0:?}")]
    UnknownTier(String),
    /// No policy exists for the service (HTTP 404).
    #[error("unknown service {0:?}")]
    UnknownService(String),
    /// A trace file is malformed: bad header, timestamp or value.
    #[error("invalid trace {name}, line {line}: {reason}")]
    InvalidTrace {
        /// The trace's name (file stem).
        name: String,
        /// One-based line number, 0 for whole-file problems.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Result with this crate's [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
