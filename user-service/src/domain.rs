//! Users and their validation, free of HTTP and SQL.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service_kit::Invalid;
use uuid::Uuid;

use crate::password::{Password, RawPassword};

/// A stored user. It never holds the password's hash: only login reads that.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct User {
    /// Identifier, chosen by the service.
    pub id: Uuid,
    /// Email as registered; unique regardless of case.
    pub email: String,
    /// Display name.
    pub name: String,
    /// When the user registered.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change: the user's `ETag`, and the order of cache entries.
    pub version: i64,
}

/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Body of `POST /users`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewUserRequest {
    /// Email address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// 8 to 128 characters; stored only as a hash, never returned.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    pub password: RawPassword,
}

/// Body of `PATCH /users/{id}`: fields left out stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// New email address.
    pub email: Option<String>,
    /// New display name.
    pub name: Option<String>,
}

/// A validated registration.
#[derive(Debug, PartialEq)]
pub struct NewUser {
    /// Trimmed, checked email.
    pub email: String,
    /// Trimmed, non-empty name.
    pub name: String,
    /// The password, of acceptable length.
    pub password: Password,
}

/// A validated change.
#[derive(Debug, PartialEq)]
pub struct UserChange {
    /// New email, if any.
    pub email: Option<String>,
    /// New name, if any.
    pub name: Option<String>,
}

impl NewUser {
    /// Validates every field and reports all problems at once.
    pub fn parse(req: NewUserRequest) -> Result<Self, Invalid> {
        let mut invalid = Invalid::new(INVALID);
        let email = invalid.check("email", parse_email(&req.email));
        let name = invalid.check("name", parse_name(&req.name));
        let password = invalid.check("password", req.password.parse());
        match (email, name, password) {
            (Some(email), Some(name), Some(password)) => Ok(Self { email, name, password }),
            _ => Err(invalid),
        }
    }
}

impl UserChange {
    /// Validates the fields present; an empty change is invalid.
    pub fn parse(req: UpdateUserRequest) -> Result<Self, Invalid> {
        if req.email.is_none() && req.name.is_none() {
            return Err(Invalid::new("nothing to change: give `email` or `name`"));
        }
        let mut invalid = Invalid::new(INVALID);
        let email = invalid.check_opt("email", req.email.as_deref().map(parse_email));
        let name = invalid.check_opt("name", req.name.as_deref().map(parse_name));
        invalid.finish()?;
        Ok(Self { email, name })
    }
}

const INVALID: &str = "the user is invalid";

/// A deliberately plain check: one `@`, a local part, a dotted domain, no spaces.
/// Whether the mailbox exists only a confirmation mail can tell.
fn parse_email(raw: &str) -> Result<String, String> {
    let email = raw.trim();
    let bad = || Err(format!("`{email}` is not an email address"));
    if email.is_empty() || email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad();
    }
    let Some((local, domain)) = email.split_once('@') else {
        return bad();
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !domain.contains('@');
    if local.is_empty() || local.len() > 64 || !domain_ok {
        return bad();
    }
    Ok(email.to_owned())
}

fn parse_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    service_kit::text::single_line(name)?;
    if name.is_empty() {
        Err("must not be empty".into())
    } else if name.chars().count() > MAX_NAME_CHARS {
        Err(format!("must be at most {MAX_NAME_CHARS} characters"))
    } else {
        Ok(name.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(email: &str, name: &str) -> Result<NewUser, Invalid> {
        new_with(email, name, "long enough")
    }

    fn new_with(email: &str, name: &str, password: &str) -> Result<NewUser, Invalid> {
        NewUser::parse(NewUserRequest {
            email: email.into(),
            name: name.into(),
            password: RawPassword::new(password),
        })
    }

    #[test]
    fn valid_user_is_trimmed() {
        let u = new("  Ada@Example.org ", " Ada ").unwrap_or_else(|p| panic!("{p}"));
        assert_eq!((u.email.as_str(), u.name.as_str()), ("Ada@Example.org", "Ada"));
    }

    #[test]
    fn bad_emails_are_rejected() {
        for email in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a b@example.org",
            "ada@.org",
            "a@b@c.org",
            "ada@example..org",
        ] {
            let p = new(email, "Ada").err().unwrap_or_else(|| panic!("{email:?} accepted"));
            assert_eq!(p.detail, "the user is invalid");
            assert!(p.errors.contains_key("email"), "{email:?}");
        }
    }

    #[test]
    fn both_fields_are_reported_at_once() {
        let p = new("nope", "   ").err().unwrap_or_else(|| panic!("accepted"));
        assert!(p.errors.contains_key("email") && p.errors.contains_key("name"));
    }

    #[test]
    fn short_password_is_reported_with_the_other_fields() {
        let p = new_with("nope", "Ada", "short")
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert!(
            p.errors.contains_key("password") && p.errors.contains_key("email"),
            "{p:?}"
        );
        assert!(
            !format!("{p:?}").contains("short\""),
            "the password is not echoed: {p:?}"
        );
        assert!(new_with("a@b.co", "Ada", &"x".repeat(129)).is_err());
        assert!(new_with("a@b.co", "Ada", &"x".repeat(128)).is_ok());
    }

    #[test]
    fn nul_and_control_characters_are_rejected_by_field() {
        let p = new("a@b.co", "a\u{0}b").err().unwrap_or_else(|| panic!("accepted"));
        assert!(p.errors.contains_key("name"), "{p:?}");
        let p = new("a\u{0}@b.co", "Ada").err().unwrap_or_else(|| panic!("accepted"));
        assert!(p.errors.contains_key("email"), "{p:?}");
        assert!(new("a@b.co", "line\nbreak").is_err());
    }

    #[test]
    fn overlong_name_is_rejected() {
        assert!(new("a@b.co", &"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(new("a@b.co", &"x".repeat(MAX_NAME_CHARS)).is_ok());
    }

    #[test]
    fn empty_change_is_rejected() {
        assert!(
            UserChange::parse(UpdateUserRequest {
                email: None,
                name: None
            })
            .is_err()
        );
        let c = UserChange::parse(UpdateUserRequest {
            email: None,
            name: Some(" Bo ".into()),
        });
        assert_eq!(
            c.ok(),
            Some(UserChange {
                email: None,
                name: Some("Bo".into())
            })
        );
    }
}
