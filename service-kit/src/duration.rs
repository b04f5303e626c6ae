//! The one duration grammar of every flag, variable and query parameter of the
//! platform: humantime's (`500ms`, `15s`, `2m`, `1h`, `7d`, `1h 30m`). A unit is always
//! required, so `90` is refused rather than guessed at.

use std::time::Duration;

/// A duration, zero allowed.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    humantime::parse_duration(text)
        .map_err(|e| format!("invalid duration {text:?} ({e}): expected e.g. 500ms, 15s, 5m, 1h, 7d"))
}

/// [`parse`], refusing zero.
pub fn positive(text: &str) -> Result<Duration, String> {
    let d = parse(text)?;
    if d.is_zero() {
        return Err(format!("duration {text:?} must be positive"));
    }
    Ok(d)
}

/// [`parse`] in seconds, for fields kept as seconds.
pub fn seconds(text: &str) -> Result<f64, String> {
    parse(text).map(|d| d.as_secs_f64())
}

/// [`positive`] in whole seconds, for fields that count seconds in integers.
pub fn whole_seconds(text: &str) -> Result<i64, String> {
    let d = positive(text)?;
    if d.subsec_nanos() != 0 {
        return Err(format!("duration {text:?} must be whole seconds"));
    }
    i64::try_from(d.as_secs()).map_err(|_| format!("duration {text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_from_milliseconds_to_days_is_understood() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(whole_seconds("7d"), Ok(604_800));
        assert_eq!(seconds("250ms"), Ok(0.25));
    }

    #[test]
    fn zero_negative_unitless_and_fractional_where_whole_are_refused() {
        for bad in ["-5m", "90", "5w x", "", "m"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
        assert!(positive("0s").is_err() && whole_seconds("0m").is_err());
        assert!(whole_seconds("1500ms").is_err());
        assert!(parse("90").unwrap_err().contains("expected e.g."));
    }
}
