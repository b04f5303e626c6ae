//! Checks for text that is going to be stored in PostgreSQL. A `text` value cannot
//! hold a NUL character (PostgreSQL rejects it outright), so input carrying one must
//! be refused as invalid (422, naming the field) before it reaches the database,
//! rather than fail there as a 500. Rust strings are valid UTF-8 already, so NUL is
//! the only character `text` refuses.

/// `Err` with a message for a field when `value` cannot be stored as `text`.
pub fn storable(value: &str) -> Result<(), String> {
    if value.contains('\0') {
        Err("must not contain NUL characters (\\u0000)".into())
    } else {
        Ok(())
    }
}

/// As [`storable`], and refuses every control character: for one-line values such as
/// names and categories, where a line break or escape sequence is a mistake or an attack
/// on whatever displays them.
pub fn single_line(value: &str) -> Result<(), String> {
    storable(value)?;
    if value.chars().any(char::is_control) {
        Err("must not contain control characters".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_refused_everywhere() {
        assert!(storable("a\0b").is_err());
        assert!(single_line("a\0b").is_err());
    }

    #[test]
    fn line_breaks_are_text_but_not_a_single_line() {
        assert!(storable("line\nnext").is_ok());
        assert!(single_line("line\nnext").is_err());
        assert!(single_line("Crème brûlée ☕").is_ok());
    }
}
