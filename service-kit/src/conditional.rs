//! Optimistic concurrency over HTTP (RFC 9110 §8.8.3, §13.1.1): a resource's `ETag`
//! is the version its service bumps on every change, and a write with `If-Match`
//! applies only when the version the client read is still the current one, so that a
//! read-modify-write cannot silently undo a change made in between (412 instead).
//!
//! Only strong comparison applies to `If-Match`: a weak tag (`W/"3"`) never matches.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponseParts, ResponseParts};

use crate::Problem;

/// The entity tag of a representation at a version: `"7"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ETag(pub i64);

impl ETag {
    /// The header value, quoted as RFC 9110 requires.
    pub fn header_value(self) -> HeaderValue {
        // Digits and quotes only: always a valid header value.
        HeaderValue::from_str(&self.to_string()).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
    }
}

/// The tag as it appears in the header, quotes included (for messages that name it).
impl std::fmt::Display for ETag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\"{}\"", self.0)
    }
}

impl IntoResponseParts for ETag {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        res.headers_mut().insert(header::ETAG, self.header_value());
        Ok(res)
    }
}

/// A parsed `If-Match` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current representation.
    Any,
    /// The versions the client accepts; empty when none of its tags can match ours.
    Versions(Vec<i64>),
}

impl IfMatch {
    /// Parses one or more header values: `*` or a comma-separated list of entity tags.
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut versions = Vec::new();
        for value in values {
            for tag in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if tag == "*" {
                    return Ok(Self::Any);
                }
                let (weak, opaque) = match tag.strip_prefix("W/") {
                    Some(rest) => (true, rest),
                    None => (false, tag),
                };
                let inner = opaque
                    .strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .filter(|t| !t.contains('"'))
                    .ok_or_else(|| format!("`{tag}` is not an entity tag: quote it, as in \"3\""))?;
                // A weak tag, or one we never issued, is valid syntax that cannot match.
                if let (false, Ok(v)) = (weak, inner.parse::<i64>()) {
                    versions.push(v);
                }
            }
        }
        Ok(Self::Versions(versions))
    }

    /// The versions a conditional write may apply to; `None` for any version.
    pub fn versions(&self) -> Option<&[i64]> {
        match self {
            Self::Any => None,
            Self::Versions(v) => Some(v),
        }
    }

    /// Whether the current `version` satisfies the precondition.
    pub fn matches(&self, version: i64) -> bool {
        self.versions().is_none_or(|v| v.contains(&version))
    }
}

/// Extracts the optional `If-Match` header; a malformed one is a 400 problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precondition(pub Option<IfMatch>);

impl<S: Send + Sync> FromRequestParts<S> for Precondition {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw: Vec<&str> = parts
            .headers
            .get_all(header::IF_MATCH)
            .iter()
            .map(|v| v.to_str().map_err(|_| Problem::bad_request("If-Match is not ASCII")))
            .collect::<Result<_, _>>()?;
        if raw.is_empty() {
            return Ok(Self(None));
        }
        IfMatch::parse(raw)
            .map(|m| Self(Some(m)))
            .map_err(|e| Problem::bad_request(format!("invalid If-Match: {e}")).with_error("If-Match", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_matches_any_version() {
        assert_eq!(IfMatch::parse(["*"]), Ok(IfMatch::Any));
        assert!(IfMatch::Any.matches(12));
    }

    #[test]
    fn a_list_of_strong_tags_matches_its_versions_only() {
        let m = IfMatch::parse([r#""3", "5""#, r#""8""#]).unwrap_or(IfMatch::Any);
        assert_eq!(m, IfMatch::Versions(vec![3, 5, 8]));
        assert!(m.matches(5) && !m.matches(4));
    }

    #[test]
    fn weak_and_foreign_tags_never_match() {
        let m = IfMatch::parse([r#"W/"3", "abc""#]).unwrap_or(IfMatch::Any);
        assert_eq!(m, IfMatch::Versions(vec![]));
        assert!(!m.matches(3));
    }

    #[test]
    fn unquoted_tags_are_malformed() {
        assert!(IfMatch::parse(["3"]).is_err());
        assert!(IfMatch::parse([r#""3"#]).is_err());
    }

    #[test]
    fn etag_is_quoted() {
        assert_eq!(ETag(7).header_value(), "\"7\"");
    }
}
