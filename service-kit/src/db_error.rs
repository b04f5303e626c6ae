//! What a `sqlx::Error` means for a service, decided in one place: a pure function
//! that sorts an error into a few kinds. Each service maps the kinds, and constraint
//! names, to its own error variants; none of them inspects SQLSTATEs itself.

use sqlx::error::ErrorKind;

/// SQLSTATEs of values the database refuses: numeric out of range, character not in
/// repertoire (a NUL in text), untranslatable character, string too long.
pub const UNSTORABLE: [&str; 4] = ["22003", "22021", "22P05", "22001"];

/// What kind of failure a database error is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbFailure {
    /// The pool is exhausted or closed, or the server cannot be reached: retry later.
    Unavailable,
    /// PostgreSQL refused a value (a NUL in text, a number out of range); carries its
    /// message. Services validate first, so that their error can name the field; this
    /// is the safety net that keeps a missed case from being a 500.
    Unstorable(String),
    /// A unique or check constraint refused the row; carries the constraint's name.
    Violation {
        /// Which kind of constraint.
        kind: Violation,
        /// Its name, when the server reported one.
        constraint: Option<String>,
    },
    /// Anything else: a bug or an outage nobody planned for.
    Other,
}

/// Constraints a service may turn into its own errors by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// `UNIQUE` or a primary key.
    Unique,
    /// `CHECK`.
    Check,
}

impl DbFailure {
    /// The name of the unique constraint violated, if this is a unique violation.
    pub fn unique(&self) -> Option<&str> {
        match self {
            Self::Violation {
                kind: Violation::Unique,
                constraint,
            } => constraint.as_deref(),
            _ => None,
        }
    }
}

/// Sorts a database error (see [`DbFailure`]).
pub fn classify(e: &sqlx::Error) -> DbFailure {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => DbFailure::Unavailable,
        sqlx::Error::Database(dbe) => {
            if dbe.code().is_some_and(|c| UNSTORABLE.contains(&c.as_ref())) {
                return DbFailure::Unstorable(dbe.message().to_owned());
            }
            let kind = match dbe.kind() {
                ErrorKind::UniqueViolation => Violation::Unique,
                ErrorKind::CheckViolation => Violation::Check,
                _ => return DbFailure::Other,
            };
            DbFailure::Violation {
                kind,
                constraint: dbe.constraint().map(str::to_owned),
            }
        }
        _ => DbFailure::Other,
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::error::Error as StdError;

    use sqlx::error::DatabaseError;

    use super::*;

    /// A database error as a driver would report it.
    #[derive(Debug)]
    struct Fake {
        code: &'static str,
        kind: fn() -> ErrorKind,
        constraint: Option<&'static str>,
    }

    impl std::fmt::Display for Fake {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "fake {}", self.code)
        }
    }

    impl StdError for Fake {}

    impl DatabaseError for Fake {
        fn message(&self) -> &str {
            "value too long"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.code))
        }
        fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn StdError + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn StdError + Send + Sync + 'static> {
            self
        }
        fn constraint(&self) -> Option<&str> {
            self.constraint
        }
        fn kind(&self) -> ErrorKind {
            (self.kind)()
        }
    }

    fn db(code: &'static str, kind: fn() -> ErrorKind, constraint: Option<&'static str>) -> sqlx::Error {
        sqlx::Error::Database(Box::new(Fake { code, kind, constraint }))
    }

    #[test]
    fn pool_and_io_failures_are_unavailable() {
        assert_eq!(classify(&sqlx::Error::PoolTimedOut), DbFailure::Unavailable);
        assert_eq!(classify(&sqlx::Error::PoolClosed), DbFailure::Unavailable);
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(classify(&io), DbFailure::Unavailable);
    }

    #[test]
    fn refused_values_are_unstorable_with_the_server_message() {
        for code in UNSTORABLE {
            assert_eq!(
                classify(&db(code, || ErrorKind::Other, None)),
                DbFailure::Unstorable("value too long".into()),
                "{code}"
            );
        }
    }

    #[test]
    fn violations_carry_their_kind_and_constraint() {
        let unique = classify(&db(
            "23505",
            || ErrorKind::UniqueViolation,
            Some("users_email_lower_key"),
        ));
        assert_eq!(unique.unique(), Some("users_email_lower_key"));
        let check = classify(&db("23514", || ErrorKind::CheckViolation, Some("stock_nonnegative")));
        assert_eq!(
            check,
            DbFailure::Violation {
                kind: Violation::Check,
                constraint: Some("stock_nonnegative".into())
            }
        );
        assert_eq!(check.unique(), None);
    }

    #[test]
    fn everything_else_is_other() {
        assert_eq!(classify(&sqlx::Error::RowNotFound), DbFailure::Other);
        assert_eq!(
            classify(&db("23503", || ErrorKind::ForeignKeyViolation, Some("fk"))),
            DbFailure::Other
        );
        assert_eq!(classify(&db("42P01", || ErrorKind::Other, None)), DbFailure::Other);
    }
}
