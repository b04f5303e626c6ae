//! The one validation error of the services' domain code: what is wrong, and a message
//! per field, so that one answer lists every bad field. It knows nothing of HTTP; each
//! service's error type turns it into a 422 problem.

use std::collections::BTreeMap;

/// A request that does not describe a valid thing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Invalid {
    /// What is invalid, for people (`the user is invalid`).
    pub detail: String,
    /// Messages by field name; may be empty.
    pub errors: BTreeMap<String, String>,
}

impl Invalid {
    /// No field errors yet.
    pub fn new(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            errors: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) the message of `field`.
    pub fn with_error(mut self, field: &str, message: impl Into<String>) -> Self {
        self.errors.insert(field.to_owned(), message.into());
        self
    }

    /// The value of a field check, or `None` with its message recorded.
    pub fn check<T>(&mut self, field: &str, checked: Result<T, String>) -> Option<T> {
        checked.map_err(|m| self.errors.insert(field.to_owned(), m)).ok()
    }

    /// The value of an optional field's check (`None` when the field is absent).
    pub fn check_opt<T>(&mut self, field: &str, checked: Option<Result<T, String>>) -> Option<T> {
        checked.and_then(|c| self.check(field, c))
    }

    /// `Err(self)` when a field check failed.
    pub fn finish(self) -> Result<(), Self> {
        if self.errors.is_empty() { Ok(()) } else { Err(self) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_collect_every_failed_field() {
        let mut inv = Invalid::new("the thing is invalid");
        assert_eq!(inv.check("a", Ok::<_, String>(1)), Some(1));
        assert_eq!(inv.check::<i32>("b", Err("bad b".into())), None);
        assert_eq!(inv.check_opt::<i32>("c", None), None);
        assert_eq!(inv.check_opt::<i32>("d", Some(Err("bad d".into()))), None);
        let err = inv.finish().err().unwrap_or_else(|| panic!("accepted"));
        assert_eq!(err.detail, "the thing is invalid");
        assert_eq!(err.errors.keys().collect::<Vec<_>>(), ["b", "d"]);
        assert!(Invalid::new("fine").finish().is_ok());
    }
}
