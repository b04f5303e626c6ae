//! Calls to the user and catalog services: a timeout on every call, bounded retries
//! with backoff on failures that may pass (transport errors, 502/503/504), and the
//! caller's request id passed on. Only idempotent calls are made, so retrying is safe.

use std::time::Duration;

use axum::http::HeaderValue;
use reqwest::{Client, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;
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
    retries: u32,
}

/// What a reservation returns that the order needs.
#[derive(Debug, Deserialize)]
pub struct Reserved {
    /// Price per unit the order pays.
    pub unit_price_cents: i64,
}

impl Downstream {
    /// A client with `timeout` per call and `retries` extra attempts.
    pub fn new(users: &str, catalog: &str, timeout: Duration, retries: u32) -> anyhow::Result<Self> {
        let http = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(1)))
            .build()?;
        Ok(Self {
            http,
            users: users.trim_end_matches('/').to_owned(),
            catalog: catalog.trim_end_matches('/').to_owned(),
            retries,
        })
    }

    /// Whether the user exists.
    pub async fn user_exists(&self, user_id: Uuid, rid: Option<&HeaderValue>) -> Result<bool, CallError> {
        let url = format!("{}/users/{user_id}", self.users);
        match self.send(|| self.http.get(&url), rid, "user-service").await {
            Ok(_) => Ok(true),
            Err(CallError::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Reserves stock for an order (idempotent per order and product).
    pub async fn reserve(
        &self,
        product_id: Uuid,
        order_id: Uuid,
        quantity: i32,
        rid: Option<&HeaderValue>,
    ) -> Result<Reserved, CallError> {
        let url = format!("{}/products/{product_id}/reserve", self.catalog);
        let body = json!({ "order_id": order_id, "quantity": quantity });
        let resp = self
            .send(|| self.http.post(&url).json(&body), rid, "catalog-service")
            .await?;
        resp.json()
            .await
            .map_err(|e| CallError::Unavailable(format!("catalog-service sent an unreadable reservation: {e}")))
    }

    /// Gives back what the order holds of a product (idempotent).
    pub async fn release(&self, product_id: Uuid, order_id: Uuid, rid: Option<&HeaderValue>) -> Result<(), CallError> {
        let url = format!("{}/products/{product_id}/release", self.catalog);
        let body = json!({ "order_id": order_id });
        match self
            .send(|| self.http.post(&url).json(&body), rid, "catalog-service")
            .await
        {
            Ok(_) | Err(CallError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
        rid: Option<&HeaderValue>,
        service: &str,
    ) -> Result<Response, CallError> {
        let mut last = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 << attempt.min(5))).await;
            }
            let mut req = build();
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

/// reqwest's message hides the cause ("error sending request"); the chain names it.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

async fn detail(resp: Response) -> String {
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    body["detail"].as_str().unwrap_or("no detail").to_owned()
}
