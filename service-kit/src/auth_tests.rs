#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use tower::ServiceExt as _;

use super::*;

const SECRET: &str = "0123456789abcdef0123456789abcdef-test";

fn key() -> AuthKey {
    AuthKey::from_secret(SECRET.as_bytes()).unwrap()
}

fn token_with_exp(key: &AuthKey, exp: u64) -> String {
    let claims = Claims {
        sub: "admin".into(),
        role: Role::Admin,
        iat: exp.saturating_sub(60),
        exp,
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key.0.encoding).unwrap()
}

#[test]
fn an_issued_token_verifies_with_its_claims() {
    let key = key();
    let user = uuid::Uuid::new_v4();
    let token = key
        .issue(&user.to_string(), Role::Customer, Duration::from_secs(60))
        .unwrap();
    let claims = key.verify(&token).unwrap();
    assert_eq!(claims.role, Role::Customer);
    assert_eq!(claims.exp - claims.iat, 60);
    let caller = Caller(claims);
    assert_eq!(caller.user_id(), Some(user));
    assert!(caller.may_act_for(user));
    assert!(!caller.may_act_for(uuid::Uuid::new_v4()));
}

#[test]
fn expired_forged_and_tampered_tokens_are_refused() {
    let key = key();
    let expired = token_with_exp(&key, now_seconds() - 2 * LEEWAY_SECONDS - 1);
    assert_eq!(key.verify(&expired), Err(AuthError::Expired));

    let other = AuthKey::from_secret(b"another secret of thirty-two bytes!!").unwrap();
    let forged = other.issue("admin", Role::Admin, Duration::from_secs(60)).unwrap();
    assert!(matches!(key.verify(&forged), Err(AuthError::Invalid(m)) if m.contains("signature")));

    // A customer's token whose payload claims admin: the signature no longer matches.
    let token = key.issue("someone", Role::Customer, Duration::from_secs(60)).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let payload = serde_json::json!({"sub": "someone", "role": "admin", "iat": 1, "exp": now_seconds() + 60});
    use base64_like::encode_url;
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        encode_url(payload.to_string().as_bytes()),
        parts[2]
    );
    assert!(matches!(key.verify(&tampered), Err(AuthError::Invalid(_))));

    assert!(matches!(key.verify("not.a.token"), Err(AuthError::Invalid(_))));
}

#[test]
fn a_remembered_token_still_expires() {
    let key = key();
    let token = key.issue("a", Role::Admin, Duration::from_secs(60)).unwrap();
    let now = now_seconds();
    assert!(key.verify_at(&token, now).is_ok());
    assert!(key.verify_at(&token, now).is_ok(), "remembered");
    assert_eq!(key.verify_at(&token, now + 3600), Err(AuthError::Expired));
    // A forged token is never remembered, however often it is sent.
    let other = AuthKey::from_secret(b"another secret of thirty-two bytes!!").unwrap();
    let forged = other.issue("a", Role::Admin, Duration::from_secs(60)).unwrap();
    for _ in 0..2 {
        assert!(matches!(key.verify(&forged), Err(AuthError::Invalid(_))));
    }
}

#[test]
fn an_unsigned_token_is_refused() {
    let key = key();
    let header = base64_like::encode_url(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = base64_like::encode_url(
        serde_json::json!({"sub": "x", "role": "admin", "iat": 1, "exp": now_seconds() + 60})
            .to_string()
            .as_bytes(),
    );
    assert!(matches!(
        key.verify(&format!("{header}.{payload}.")),
        Err(AuthError::Invalid(_))
    ));
}

#[test]
fn short_or_missing_secrets_are_refused_at_start() {
    assert!(AuthKey::from_secret(b"short").is_err());
    let err = AuthArgs::default().key().unwrap_err().to_string();
    assert!(err.contains("AUTH_SECRET"), "{err}");
    assert!(AuthArgs::with_secret(SECRET).key().is_ok());

    let file = std::env::temp_dir().join(format!("auth-secret-{}", uuid::Uuid::new_v4()));
    std::fs::write(&file, format!("{SECRET}\n")).unwrap();
    let args = AuthArgs {
        auth_secret: None,
        auth_secret_file: Some(file.clone()),
    };
    let from_file = args.key().unwrap();
    let token = key().issue("a", Role::Admin, Duration::from_secs(60)).unwrap();
    assert!(
        from_file.verify(&token).is_ok(),
        "the newline at the end is not part of the secret"
    );
    std::fs::remove_file(file).unwrap();
}

#[test]
fn roles_are_required_exactly() {
    let key = key();
    let claims = key.verify(
        &key.issue("order-service", Role::Service, Duration::from_secs(60))
            .unwrap(),
    );
    let caller = Caller(claims.unwrap());
    assert!(caller.require(Role::Service).is_ok());
    assert!(matches!(caller.require(Role::Admin), Err(AuthError::Forbidden(_))));
    assert_eq!(caller.user_id(), None, "a service is nobody's user");
    assert!(!caller.may_act_for(uuid::Uuid::new_v4()));
}

#[test]
fn a_service_token_is_reused_until_half_its_life() {
    let tokens = ServiceToken::new(key(), "order-service", Duration::from_secs(120));
    let first = tokens.bearer().unwrap();
    assert_eq!(first, tokens.bearer().unwrap());
    let claims = key().verify(first.trim_start_matches("Bearer ")).unwrap();
    assert_eq!((claims.role, claims.sub.as_str()), (Role::Service, "order-service"));
}

async fn status_of(app: Router, auth: Option<String>) -> (u16, Option<String>) {
    let mut request = Request::get("/");
    if let Some(value) = auth {
        request = request.header("authorization", value);
    }
    let response = app.oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), challenge)
}

#[tokio::test]
async fn the_extractors_answer_401_and_403() {
    let key = key();
    let app = Router::new()
        .route("/", get(|Admin(_): Admin| async { "ok" }))
        .layer(key.layer());
    let admin = key.issue("root", Role::Admin, Duration::from_secs(60)).unwrap();
    let customer = key.issue("someone", Role::Customer, Duration::from_secs(60)).unwrap();
    let expired = token_with_exp(&key, 1);

    assert_eq!(status_of(app.clone(), None).await, (401, Some("Bearer".into())));
    assert_eq!(status_of(app.clone(), Some(format!("Bearer {expired}"))).await.0, 401);
    assert_eq!(status_of(app.clone(), Some(format!("Basic {admin}"))).await.0, 401);
    assert_eq!(
        status_of(app.clone(), Some(format!("Bearer {customer}"))).await,
        (403, None)
    );
    assert_eq!(status_of(app.clone(), Some(format!("bearer {admin}"))).await.0, 200);

    let without_key = Router::new().route("/", get(|_: Caller| async { "ok" }));
    assert_eq!(status_of(without_key, Some(format!("Bearer {admin}"))).await.0, 500);
}

mod base64_like {
    use base64::Engine as _;

    pub(super) fn encode_url(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}
