//! Calls to the user and catalog services: retries with jittered exponential backoff
//! on failures that may pass (transport errors, 502/503/504), all within one deadline
//! per call that the caller may shorten further (the saga's own), so that retries never
//! outlast the request they serve; a timeout on every attempt; the caller's request id
//! passed on. Only idempotent calls are made, so retrying is safe.
//!
//! Credentials: the catalog's reserve and release take this service's own token
//! ([`ServiceToken`], subject `order-service`); the user lookup carries the caller's
//! own `Authorization`, so that user-service decides what the caller may see and a
//! service token never reads users.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use axum::http::{HeaderValue, header};
use reqwest::{Client, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;
use service_kit::auth::{AuthKey, ServiceToken};
use service_kit::telemetry::error_chain;
use uuid::Uuid;

/// Why a downstream call did not give what was asked.
#[derive(Debug, PartialEq)]
pub enum CallError {
    /// The service answered: the thing does not exist.
    NotFound,
    /// The service answered: not possible now (for stock: too little). Carries its detail.
    Conflict(String),
    /// The service did not answer usefully after the retries. Carries what happened.
    Unavailable(String),
}

/// The user and catalog services as seen from the order service.
#[derive(Clone)]
pub struct Downstream {
    http: Client,
    users: String,
    catalog: String,
    attempt_timeout: Duration,
    budget: Duration,
    /// This service's token for the catalog, shared by every clone (minted again at half life).
    token: Arc<ServiceToken>,
}

/// The subject of this service's own token.
pub const SUBJECT: &str = "order-service";
/// Lifetime of this service's token: short, since anything holding it may reserve stock.
pub const TOKEN_TTL: Duration = Duration::from_secs(5 * 60);

/// First backoff; doubles per retry up to [`BACKOFF_CAP`].
const BACKOFF_BASE: Duration = Duration::from_millis(50);
/// Longest single backoff.
const BACKOFF_CAP: Duration = Duration::from_secs(1);

/// "Full jitter" backoff before retry `retry` (1-based): uniform in `[0, min(cap,
/// base * 2^retry))`, `unit` being a uniform draw in `[0, 1)`. Jitter keeps replicas
/// that failed together from retrying together.
pub fn backoff(retry: u32, unit: f64) -> Duration {
    let ceiling = BACKOFF_BASE.saturating_mul(1u32 << retry.min(16)).min(BACKOFF_CAP);
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

/// What the catalog answers to a release.
#[derive(Debug, Deserialize)]
struct Released {
    /// Units this call gave back: 0 when already released or never held.
    returned: i32,
}

/// What a reservation returns that the order needs.
#[derive(Debug, Deserialize)]
pub struct Reserved {
    /// Price per unit the order pays.
    pub unit_price_cents: i64,
}

impl Downstream {
    /// A client with `attempt_timeout` per attempt and `budget` for a call with its
    /// retries, calling the catalog with tokens signed by `key`.
    pub fn new(
        users: &str,
        catalog: &str,
        attempt_timeout: Duration,
        budget: Duration,
        key: AuthKey,
    ) -> anyhow::Result<Self> {
        let http = Client::builder()
            .connect_timeout(attempt_timeout.min(Duration::from_secs(1)))
            .build()?;
        Ok(Self {
            http,
            users: users.trim_end_matches('/').to_owned(),
            catalog: catalog.trim_end_matches('/').to_owned(),
            attempt_timeout,
            budget,
            token: Arc::new(ServiceToken::new(key, SUBJECT, TOKEN_TTL)),
        })
    }

    /// The `Authorization` value for the catalog, marked sensitive so that no debug
    /// output of the request shows it.
    fn service_bearer(&self) -> Result<HeaderValue, CallError> {
        let cannot = |e: String| CallError::Unavailable(format!("cannot mint the service token: {e}"));
        let bearer = self.token.bearer().map_err(|e| cannot(e.to_string()))?;
        let mut value = HeaderValue::try_from(bearer).map_err(|e| cannot(e.to_string()))?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// The deadline of a call starting now, no later than `cap` when given.
    pub fn deadline(&self, cap: Option<Instant>) -> Instant {
        let own = Instant::now() + self.budget;
        cap.map_or(own, |cap| cap.min(own))
    }

    /// Whether the user exists, asking until `cap` at the latest with the caller's own
    /// `authorization` (user-service answers 404 for a user the caller may not see).
    pub async fn user_exists(
        &self,
        user_id: Uuid,
        authorization: Option<&HeaderValue>,
        rid: Option<&HeaderValue>,
        cap: Instant,
    ) -> Result<bool, CallError> {
        let url = format!("{}/users/{user_id}", self.users);
        let until = self.deadline(Some(cap));
        let build = || {
            let req = self.http.get(&url);
            match authorization {
                Some(a) => {
                    let mut a = a.clone();
                    a.set_sensitive(true);
                    req.header(header::AUTHORIZATION, a)
                }
                None => req,
            }
        };
        match self.send(build, rid, "user-service", until).await {
            Ok(_) => Ok(true),
            Err(CallError::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Reserves stock for an order (idempotent per order and product), giving up at `until`.
    pub async fn reserve(
        &self,
        product_id: Uuid,
        order_id: Uuid,
        quantity: i32,
        rid: Option<&HeaderValue>,
        until: Instant,
    ) -> Result<Reserved, CallError> {
        let url = format!("{}/products/{product_id}/reserve", self.catalog);
        let body = json!({ "order_id": order_id, "quantity": quantity });
        let bearer = self.service_bearer()?;
        let build = || {
            self.http
                .post(&url)
                .header(header::AUTHORIZATION, bearer.clone())
                .json(&body)
        };
        let resp = self.send(build, rid, "catalog-service", until).await?;
        resp.json()
            .await
            .map_err(|e| CallError::Unavailable(format!("catalog-service sent an unreadable reservation: {e}")))
    }

    /// Gives back what the order holds of a product (idempotent); returns the units this
    /// call gave back (0 when already released, never held, or the product is gone). The
    /// catalog remembers a release, so a reserve for the order arriving later is refused.
    pub async fn release(&self, product_id: Uuid, order_id: Uuid, rid: Option<&HeaderValue>) -> Result<i32, CallError> {
        let url = format!("{}/products/{product_id}/release", self.catalog);
        let body = json!({ "order_id": order_id });
        let until = self.deadline(None);
        let bearer = self.service_bearer()?;
        let build = || {
            self.http
                .post(&url)
                .header(header::AUTHORIZATION, bearer.clone())
                .json(&body)
        };
        match self.send(build, rid, "catalog-service", until).await {
            Ok(resp) => resp
                .json::<Released>()
                .await
                .map(|r| r.returned)
                .map_err(|e| CallError::Unavailable(format!("catalog-service sent an unreadable release: {e}"))),
            Err(CallError::NotFound) => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Sends until an answer that is final, or until `until`: a retry starts only if its
    /// backoff ends before the deadline, and each attempt's timeout is cut to what is left.
    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
        rid: Option<&HeaderValue>,
        service: &str,
        until: Instant,
    ) -> Result<Response, CallError> {
        let mut last = format!("{service} was not called: no time left");
        for retry in 0u32.. {
            if retry > 0 {
                let pause = backoff(retry, fastrand::f64());
                if Instant::now() + pause >= until {
                    break;
                }
                tokio::time::sleep(pause).await;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let mut req = build().timeout(left.min(self.attempt_timeout));
            if let Some(rid) = rid {
                req = req.header(service_kit::http::REQUEST_ID, rid.clone());
            }
            match req.send().await {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) => match resp.status() {
                    StatusCode::NOT_FOUND => return Err(CallError::NotFound),
                    StatusCode::CONFLICT => return Err(CallError::Conflict(detail(resp).await)),
                    StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
                        last = format!("{service} answered {}", resp.status());
                    }
                    status => {
                        let d = detail(resp).await;
                        return Err(CallError::Unavailable(format!("{service} answered {status}: {d}")));
                    }
                },
                Err(e) if e.is_timeout() => last = format!("{service} did not answer in time"),
                Err(e) => last = format!("{service} unreachable: {}", error_chain(&e)),
            }
        }
        Err(CallError::Unavailable(last))
    }
}

async fn detail(resp: Response) -> String {
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    body["detail"].as_str().unwrap_or("no detail").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_the_cap_and_jitters_below_it() {
        assert_eq!(backoff(1, 0.0), Duration::ZERO);
        assert_eq!(backoff(1, 0.5), Duration::from_millis(50));
        assert_eq!(backoff(3, 0.5), Duration::from_millis(200));
        assert_eq!(backoff(30, 0.999_999), BACKOFF_CAP.mul_f64(0.999_999));
        assert!(
            backoff(u32::MAX, 1.5) <= BACKOFF_CAP,
            "a bad draw cannot exceed the cap"
        );
    }

    #[tokio::test]
    async fn retries_stop_at_the_deadline_not_after_a_count() {
        // A port nobody listens on: every attempt fails at once, so only the deadline ends it.
        let closed = format!("http://127.0.0.1:{}", service_kit::testing::free_port());
        let d = Downstream::new(
            &closed,
            &closed,
            Duration::from_secs(5),
            Duration::from_millis(400),
            service_kit::testing::auth_key(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let start = Instant::now();
        let got = d
            .user_exists(Uuid::nil(), None, None, start + Duration::from_secs(60))
            .await;
        let took = start.elapsed();
        assert!(matches!(got, Err(CallError::Unavailable(_))), "{got:?}");
        assert!(took <= Duration::from_millis(700), "gave up after {took:?}");
    }
}
