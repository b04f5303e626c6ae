//! Passwords: the text a client sends (never printed or serialised), its validation,
//! and its Argon2id hash (the crate's default parameters, in a PHC string that carries
//! salt and parameters, so they can change later without a migration).
//!
//! Hashing and verifying cost tens of milliseconds of CPU each, on purpose: both run on
//! tokio's blocking pool so that a login does not stall the other requests of its
//! worker thread, and at most one per core at a time ([`HASHING`]).

use std::num::NonZero;
use std::sync::LazyLock;

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use serde::Deserialize;
use tokio::sync::Semaphore;

/// Hashes running at once. Each holds 19 MiB (Argon2id's default memory cost) and a
/// core; unbounded, a burst of logins would get up to 512 of them (tokio's blocking
/// pool) and the memory they need. The others wait their turn, within the request's
/// timeout.
static HASHING: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, NonZero::get)));

/// Runs `work` on the blocking pool once a [`HASHING`] permit is free. The permit goes
/// with the work, so a request that gives up waiting does not free it early.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    let permit = HASHING.acquire().await?;
    Ok(tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await?)
}

/// Fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Most characters a password may have: more adds nothing and costs hashing time.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A password as the client sent it, unchecked. Its `Debug` hides it, so that a request
/// logged with `?` cannot leak it; it has no `Serialize`. The request types describe it
/// in the contract as a string (`#[schema(value_type = String, format = Password)]`).
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct RawPassword(String);

impl RawPassword {
    /// A password from text (tests, tools).
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// Checks the length: [`MIN_PASSWORD_CHARS`] to [`MAX_PASSWORD_CHARS`] characters.
    pub fn parse(self) -> Result<Password, String> {
        let chars = self.0.chars().count();
        if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
            Ok(Password(self.0))
        } else {
            Err(format!(
                "must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters long (it has {chars})"
            ))
        }
    }
}

impl std::fmt::Debug for RawPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawPassword(..)")
    }
}

/// A password of acceptable length, to be hashed.
#[derive(Clone, PartialEq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A stored password: an Argon2id PHC string.
#[derive(Clone, PartialEq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// The PHC string, to store.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

/// Hashes `password` with a fresh random salt, on the blocking pool.
pub async fn hash(password: Password) -> anyhow::Result<PasswordHash> {
    hashing(move || hash_now(password.0.as_bytes())).await?
}

fn hash_now(password: &[u8]) -> anyhow::Result<PasswordHash> {
    let phc = Argon2::default()
        .hash_password(password)
        .map_err(|e| anyhow::anyhow!("cannot hash a password: {e}"))?;
    Ok(PasswordHash(phc.to_string()))
}

/// What [`verify`] checks a password against when there is no user (or the user has
/// no password): a hash of a random password with the same parameters, so that the
/// answer takes as long as for a real user and its timing does not tell whether an
/// email is registered.
#[derive(Clone, Debug)]
pub struct DummyHash(PasswordHash);

impl DummyHash {
    /// Hashes a random password (once, at startup).
    pub async fn new() -> anyhow::Result<Self> {
        let random = uuid::Uuid::new_v4().simple().to_string();
        Ok(Self(hash(Password(random)).await?))
    }
}

/// Whether `password` matches `stored`; with `None` it is checked against `dummy` and
/// the answer is always `false`. A stored hash that does not parse is logged and counts
/// as a mismatch.
pub async fn verify(password: RawPassword, stored: Option<String>, dummy: &DummyHash) -> anyhow::Result<bool> {
    let dummy = dummy.0.0.clone();
    hashing(move || {
        let exists = stored.is_some();
        let phc = stored.unwrap_or(dummy);
        let matched = match Argon2::default().verify_password(password.0.as_bytes(), phc.as_str()) {
            Ok(()) => true,
            Err(argon2::password_hash::Error::PasswordInvalid) => false,
            Err(e) => {
                tracing::error!(error.message = %e, "a stored password hash cannot be checked");
                false
            }
        };
        exists && matched
    })
    .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn length_is_checked_in_characters() {
        assert!(RawPassword::new("x".repeat(7)).parse().is_err());
        assert!(RawPassword::new("x".repeat(8)).parse().is_ok());
        assert!(
            RawPassword::new("é".repeat(128)).parse().is_ok(),
            "256 bytes, 128 chars"
        );
        assert!(RawPassword::new("x".repeat(129)).parse().is_err());
        assert!(RawPassword::new("").parse().is_err());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let raw = RawPassword::new("hunter2hunter2");
        assert!(!format!("{raw:?}").contains("hunter2"));
        let valid = raw.parse().unwrap();
        assert!(!format!("{valid:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hashed = hash(RawPassword::new("correct horse").parse().unwrap()).await.unwrap();
        assert!(hashed.as_str().starts_with("$argon2id$"), "{}", hashed.as_str());
        assert!(!format!("{hashed:?}").contains("argon2"));
        let dummy = DummyHash::new().await.unwrap();
        let stored = Some(hashed.as_str().to_owned());
        assert!(
            verify(RawPassword::new("correct horse"), stored.clone(), &dummy)
                .await
                .unwrap()
        );
        assert!(!verify(RawPassword::new("wrong horse"), stored, &dummy).await.unwrap());
        // No user: never a match, not even with the dummy's own password.
        assert!(!verify(RawPassword::new("correct horse"), None, &dummy).await.unwrap());
        assert!(
            !verify(RawPassword::new("x"), Some("not a phc string".into()), &dummy)
                .await
                .unwrap()
        );
    }
}
