//! The tokens the tests call the services with, all of the test key
//! (`service_kit::testing::AUTH_SECRET`) but the forged one.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use service_kit::auth::Role;
use service_kit::testing;
use uuid::Uuid;

/// The `Authorization` value of `user` as a customer.
pub(crate) fn customer(user: Uuid) -> String {
    testing::bearer(&user.to_string(), Role::Customer)
}

/// A client that sends `authorization` with every request (a request's own header wins).
pub(crate) fn client_with(authorization: &str) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_str(authorization).unwrap());
    reqwest::Client::builder().default_headers(headers).build().unwrap()
}

/// A token of the test key that expired an hour ago (well past the verifier's leeway).
pub(crate) fn expired_bearer(subject: &str, role: Role) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = service_kit::auth::Claims {
        sub: subject.into(),
        role,
        iat: now - 7200,
        exp: now - 3600,
    };
    let key = jsonwebtoken::EncodingKey::from_secret(testing::AUTH_SECRET.as_bytes()).unwrap();
    let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
    format!("Bearer {token}")
}

/// A well-formed, unexpired token signed with another key than the platform's.
pub(crate) fn forged_bearer(subject: &str, role: Role) -> String {
    let other = service_kit::auth::AuthKey::from_secret(b"not-the-platform-secret-0123456789abcdef").unwrap();
    format!(
        "Bearer {}",
        other.issue(subject, role, Duration::from_secs(600)).unwrap()
    )
}
