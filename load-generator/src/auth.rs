//! Tokens, as the shop hands them out: an admin token given on the command line (seeding
//! products and stock needs one), and the customers the run registers, each logging in
//! with its own password for a token that expires.
//!
//! Pure parts only: what a customer sends, when its token should be renewed, where the
//! admin token comes from. The requests themselves are made (and timed) in `shop` and `seed`.

use anyhow::Context;
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;
use uuid::Uuid;

/// Share of a token's lifetime after which it is renewed: well before it expires, so
/// that a request in flight or a clock a few seconds apart never meets an expired one.
const RENEW_AT: f64 = 0.8;

/// A bearer token. `Debug` does not show it: run options and pools are logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Bearer(String);

impl Bearer {
    /// The `Authorization` header value.
    pub fn header(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bearer(..)")
    }
}

impl FromStr for Bearer {
    type Err = String;

    /// The token alone, or pasted with its `Bearer ` scheme; surrounding whitespace (a
    /// file's newline) is dropped.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let token = match text.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => text,
        };
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err("expected a token (one word, as `issue-token` prints it)".into());
        }
        Ok(Self(token.to_owned()))
    }
}

/// The admin token from `--admin-token-file` (which wins: it is named on purpose, where
/// `ADMIN_TOKEN` may linger in the environment) or `--admin-token`; `None` when neither
/// is given.
pub fn admin_token(token: Option<&Bearer>, file: Option<&Path>) -> anyhow::Result<Option<Bearer>> {
    let Some(path) = file else {
        return Ok(token.cloned());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the admin token file {}", path.display()))?;
    let token = text
        .parse()
        .map_err(|e: String| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(Some(token))
}

/// Why seeding cannot go on without an admin token, and how to get one.
pub fn admin_token_missing() -> anyhow::Error {
    anyhow::anyhow!(
        "--seed creates products, which needs an admin token: pass --admin-token-file .run/admin-token \
         (make up writes it), --admin-token TOKEN or ADMIN_TOKEN"
    )
}

/// The answer of `POST /auth/token`.
#[derive(Debug, Deserialize)]
pub struct TokenAnswer {
    /// The token.
    pub access_token: String,
    /// Seconds it lives from when it was issued.
    pub expires_in: u64,
}

/// A token a customer holds and when to renew it.
#[derive(Debug, Clone)]
pub struct Login {
    /// The token.
    pub bearer: Bearer,
    /// From this instant on the token is renewed before use.
    pub renew_at: Instant,
}

impl Login {
    /// A login whose request left at `sent` (the token's lifetime counts from the server's
    /// clock, which is at or after it).
    pub fn new(answer: TokenAnswer, sent: Instant) -> Self {
        let lifetime = Duration::from_secs(answer.expires_in);
        Self {
            bearer: Bearer(answer.access_token),
            renew_at: sent + lifetime.mul_f64(RENEW_AT),
        }
    }

    /// Whether the token is still good to use at `now`.
    pub fn fresh_at(&self, now: Instant) -> bool {
        now < self.renew_at
    }
}

/// A shop user this run registered: its credentials, and its token once logged in.
#[derive(Debug)]
pub struct Customer {
    /// The user's id (the token's subject).
    pub id: Uuid,
    /// The credentials of `POST /auth/token`.
    pub credentials: Credentials,
    /// The current token. An async lock: one login at a time per customer, the others
    /// wait for it instead of logging in too.
    pub login: Mutex<Option<Login>>,
}

impl Customer {
    /// A customer registered as `id`, not logged in yet.
    pub fn new(id: Uuid, credentials: Credentials) -> Self {
        Self {
            id,
            credentials,
            login: Mutex::new(None),
        }
    }
}

/// Email and password of a customer this run made up.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Unique per customer.
    pub email: String,
    password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Fresh credentials: a unique email and a random password (within the 8 to 128
    /// characters user-service accepts).
    pub fn fresh() -> Self {
        let id = Uuid::new_v4().simple();
        Self {
            email: format!("lg-{id}@load.test"),
            password: format!("pw-{}", Uuid::new_v4().simple()),
        }
    }

    /// The body of `POST /users`.
    pub fn registration(&self) -> Value {
        let name = self
            .email
            .split_once('@')
            .map_or(self.email.as_str(), |(local, _)| local);
        json!({ "name": format!("Load {name}"), "email": self.email, "password": self.password })
    }

    /// The body of `POST /auth/token`.
    pub fn login(&self) -> Value {
        json!({ "email": self.email, "password": self.password })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_reads_as_issue_token_prints_it_and_never_shows_in_debug() {
        let b: Bearer = "abc.def.ghi\n".parse().unwrap();
        assert_eq!(b.header(), "Bearer abc.def.ghi");
        assert_eq!("Bearer abc.def.ghi".parse::<Bearer>().unwrap(), b);
        assert_eq!(format!("{b:?}"), "Bearer(..)");
        assert!("".parse::<Bearer>().is_err());
        assert!("  \n".parse::<Bearer>().is_err());
        assert!("two words".parse::<Bearer>().is_err());
    }

    #[test]
    fn the_admin_token_file_wins_over_the_token() {
        let dir = std::env::temp_dir().join(format!("lg-auth-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("admin-token");
        std::fs::write(&file, "from.the.file\n").unwrap();
        let flag: Bearer = "from.the.flag".parse().unwrap();

        assert_eq!(admin_token(Some(&flag), None).unwrap(), Some(flag.clone()));
        assert_eq!(
            admin_token(Some(&flag), Some(&file)).unwrap(),
            Some("from.the.file".parse().unwrap())
        );
        assert_eq!(admin_token(None, None).unwrap(), None);
        let missing = admin_token(None, Some(&dir.join("absent"))).unwrap_err();
        assert!(missing.to_string().contains("absent"), "{missing}");
        std::fs::write(&file, "\n").unwrap();
        assert!(admin_token(None, Some(&file)).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_token_is_renewed_after_four_fifths_of_its_life() {
        let sent = Instant::now();
        let answer = TokenAnswer {
            access_token: "t".into(),
            expires_in: 900,
        };
        let login = Login::new(answer, sent);
        assert!(login.fresh_at(sent));
        assert!(login.fresh_at(sent + Duration::from_secs(719)));
        assert!(!login.fresh_at(sent + Duration::from_secs(720)));
        // A token that expires at once is never used twice.
        let at_once = Login::new(
            TokenAnswer {
                access_token: "t".into(),
                expires_in: 0,
            },
            sent,
        );
        assert!(!at_once.fresh_at(sent));
    }

    #[test]
    fn credentials_are_unique_and_fit_the_registration_contract() {
        let (a, b) = (Credentials::fresh(), Credentials::fresh());
        assert_ne!(a.email, b.email);
        let body = a.registration();
        let password = body["password"].as_str().unwrap();
        assert!((8..=128).contains(&password.len()));
        assert_eq!(body["email"], a.email);
        assert!(body["name"].as_str().unwrap().starts_with("Load lg-"));
        assert_eq!(a.login(), json!({ "email": a.email, "password": password }));
        assert!(!format!("{a:?}").contains(password));
    }
}
