//! Parsing of short human durations (`15m`, `300s`, `1h`, `2d`) for the CLI and, later, the
//! `?horizon=` query parameter. A bare number means seconds.

/// Parses a duration into whole seconds; it must be positive.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: expected e.g. 15m, 300s, 1h"))?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("invalid duration unit {unit:?}: use s, m, h or d")),
    };
    match number.checked_mul(factor) {
        Some(seconds) if seconds > 0 => Ok(seconds),
        _ => Err(format!("duration {text:?} must be positive and not overflow")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn units_are_understood_and_garbage_refused() {
        assert_eq!(parse_duration("15m"), Ok(900));
        assert_eq!(parse_duration("300s"), Ok(300));
        assert_eq!(parse_duration("1h"), Ok(3600));
        assert_eq!(parse_duration("120"), Ok(120));
        assert!(parse_duration("0m").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("-5m").is_err());
    }
}
