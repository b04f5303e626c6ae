//! Environment variables the services no longer read, each with its replacement. clap
//! reads one variable per flag, so a retired one left in a manifest or a shell would be
//! ignored without a word, and a timeout silently back at its default is worse than a
//! refusal: every service binary calls [`check_env`] first and does not start while one
//! is set. The message names the replacement with the value converted (`REQUEST_TIMEOUT_MS=
//! 2500` becomes `REQUEST_TIMEOUT=2500ms`).

use std::time::Duration;

use crate::prometheus::SETUP_ENV;

/// What a retired variable held, which decides how its value carries over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Was {
    /// A whole number of milliseconds; the replacement takes a duration.
    Millis,
    /// A whole number of seconds; the replacement takes a duration.
    Seconds,
    /// The same value under another name.
    Same,
}

/// A variable no longer read, and the one that replaced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retired {
    /// The old name.
    pub name: &'static str,
    /// The variable to set instead.
    pub replacement: &'static str,
    /// How the old value maps onto the new variable.
    pub was: Was,
}

const fn millis(name: &'static str, replacement: &'static str) -> Retired {
    Retired {
        name,
        replacement,
        was: Was::Millis,
    }
}

const fn seconds(name: &'static str, replacement: &'static str) -> Retired {
    Retired {
        name,
        replacement,
        was: Was::Seconds,
    }
}

const fn renamed(name: &'static str, replacement: &'static str) -> Retired {
    Retired {
        name,
        replacement,
        was: Was::Same,
    }
}

/// Every retired variable of every service binary.
pub const RETIRED_ENV: &[Retired] = &[
    // Durations, which now carry their unit in the value (`crate::duration`).
    millis("CACHE_BREAKER_COOLDOWN_MS", "CACHE_BREAKER_COOLDOWN"),
    millis("CACHE_LOCAL_TTL_MS", "CACHE_LOCAL_TTL"),
    millis("CACHE_TIMEOUT_MS", "CACHE_TIMEOUT"),
    seconds("CACHE_TTL_SECONDS", "CACHE_TTL"),
    millis("DATABASE_ACQUIRE_TIMEOUT_MS", "DATABASE_ACQUIRE_TIMEOUT"),
    millis("DOWNSTREAM_DEADLINE_MS", "DOWNSTREAM_DEADLINE"),
    millis("DOWNSTREAM_TIMEOUT_MS", "DOWNSTREAM_TIMEOUT"),
    seconds("PREDICTOR_REFRESH_SECONDS", "PREDICTOR_REFRESH"),
    seconds("PREDICTOR_RETRAIN_SECONDS", "PREDICTOR_RETRAIN"),
    millis("PROMETHEUS_TIMEOUT_MS", "PROMETHEUS_TIMEOUT"),
    millis("RECONCILE_INTERVAL_MS", "RECONCILE_INTERVAL"),
    millis("RECONCILE_REQUEUE_AFTER_MS", "RECONCILE_REQUEUE_AFTER"),
    millis("RECONCILE_STUCK_AFTER_MS", "RECONCILE_STUCK_AFTER"),
    millis("REQUEST_TIMEOUT_MS", "REQUEST_TIMEOUT"),
    millis("SAGA_TIMEOUT_MS", "SAGA_TIMEOUT"),
    seconds("VISIBILITY_TIMEOUT_SECS", "VISIBILITY_TIMEOUT"),
    // The per-service setups, now one variable for the predictor and the cost optimizer.
    renamed("COST_SETUP", SETUP_ENV),
    renamed("PREDICTOR_SETUP", SETUP_ENV),
];

impl Retired {
    /// What to set instead of `self.name=value`: the replacement with the value converted
    /// where it can be, otherwise with the unit to add.
    pub fn instead(&self, value: &str) -> String {
        let value = value.trim();
        let converted = match self.was {
            Was::Same => Some(value.to_owned()),
            Was::Millis => value.parse().ok().map(Duration::from_millis).map(format_duration),
            Was::Seconds => value.parse().ok().map(Duration::from_secs).map(format_duration),
        };
        match (converted, self.was) {
            (Some(v), _) => format!("{}={v}", self.replacement),
            (None, Was::Millis) => format!("{}={value}ms", self.replacement),
            (None, _) => format!("{}={value}s", self.replacement),
        }
    }
}

/// `d` in the largest unit that holds it exactly (`2500ms`, `90s`, `5m`): one word, so
/// that it can be pasted into a shell or a manifest as it is.
fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    let units = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1000, "s")];
    match units.iter().find(|(size, _)| ms > 0 && ms.is_multiple_of(*size)) {
        Some((size, unit)) => format!("{}{unit}", ms / size),
        None if ms == 0 => "0s".to_owned(),
        None => format!("{ms}ms"),
    }
}

/// The retired variables `lookup` finds set, each with its value.
pub fn set_in(lookup: impl Fn(&str) -> Option<String>) -> Vec<(&'static Retired, String)> {
    RETIRED_ENV
        .iter()
        .filter_map(|r| lookup(r.name).map(|value| (r, value)))
        .collect()
}

/// Refuses to start while a retired variable is set in the environment, with one line per
/// variable naming what to set instead. Call it first thing in `main`.
pub fn check_env() -> anyhow::Result<()> {
    let set = set_in(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()));
    if set.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = set
        .iter()
        .map(|(r, value)| format!("  {}={value}: set {} instead", r.name, r.instead(value)))
        .collect();
    anyhow::bail!(
        "retired environment variables are set and would be ignored; durations now carry their unit \
         (500ms, 15s, 5m):\n{}",
        lines.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(name: &str) -> &'static Retired {
        RETIRED_ENV
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("{name} is not listed"))
    }

    #[test]
    fn values_carry_over_with_their_unit() {
        assert_eq!(find("REQUEST_TIMEOUT_MS").instead("10000"), "REQUEST_TIMEOUT=10s");
        assert_eq!(find("REQUEST_TIMEOUT_MS").instead("2500"), "REQUEST_TIMEOUT=2500ms");
        assert_eq!(
            find("RECONCILE_STUCK_AFTER_MS").instead("90000"),
            "RECONCILE_STUCK_AFTER=90s"
        );
        assert_eq!(
            find("PREDICTOR_RETRAIN_SECONDS").instead("86400"),
            "PREDICTOR_RETRAIN=1d"
        );
        assert_eq!(find("CACHE_TIMEOUT_MS").instead("30"), "CACHE_TIMEOUT=30ms");
        assert_eq!(find("CACHE_TTL_SECONDS").instead("300"), "CACHE_TTL=5m");
        assert_eq!(find("CACHE_LOCAL_TTL_MS").instead("0"), "CACHE_LOCAL_TTL=0s");
        assert_eq!(
            find("VISIBILITY_TIMEOUT_SECS").instead(" 30 "),
            "VISIBILITY_TIMEOUT=30s"
        );
        assert_eq!(find("COST_SETUP").instead("kubernetes"), "PLATFORM_SETUP=kubernetes");
        // A value that was never a number gets the unit it was meant in.
        assert_eq!(find("SAGA_TIMEOUT_MS").instead("8e3"), "SAGA_TIMEOUT=8e3ms");
    }

    #[test]
    fn only_the_variables_set_are_named() {
        let set = set_in(|name| (name == "DOWNSTREAM_DEADLINE_MS").then(|| "4000".to_owned()));
        assert_eq!(set.len(), 1);
        assert_eq!(set[0].0.replacement, "DOWNSTREAM_DEADLINE");
        assert!(set_in(|_| None).is_empty());
    }

    #[test]
    fn each_name_is_listed_once_and_replaced_by_a_name_without_a_unit() {
        for (i, r) in RETIRED_ENV.iter().enumerate() {
            assert!(RETIRED_ENV[i + 1..].iter().all(|o| o.name != r.name), "{}", r.name);
            assert_ne!(r.name, r.replacement);
            for unit in ["_MS", "_SECS", "_SECONDS"] {
                assert!(!r.replacement.ends_with(unit), "{}", r.replacement);
            }
        }
    }
}
