//! The shop scenarios against a fake shop that checks tokens as the real one does: seeding with
//! the admin token, customers registering with a password and logging in, route-template
//! names, the order ledger that the end-to-end stock check relies on, and a new login when the
//! shop stops taking a token.

use crate::helpers::{run, spawn, try_run};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

const ADMIN: &str = "admin.token";

/// Quantities ordered per product, as the fake shop saw them, and who may do what.
#[derive(Default)]
struct Fake {
    products: Vec<Uuid>,
    ordered: BTreeMap<Uuid, u64>,
    /// Each order with its owner.
    orders: HashMap<Uuid, (Value, Uuid)>,
    /// email -> (user id, password).
    users: HashMap<String, (Uuid, String)>,
    /// Token -> user id, for the tokens still taken.
    tokens: HashMap<String, Uuid>,
    logins: u64,
    /// Customer requests answered so far; at this count every token is dropped (as a new
    /// secret would), once.
    authed: u64,
    revoke_at: Option<u64>,
    /// Customer requests refused for a bad token, and those taken after the revocation.
    refused: u64,
    taken_after_revoke: u64,
}

type Shared = Arc<Mutex<Fake>>;

fn fake_shop(state: Shared) -> Router {
    Router::new()
        .route("/users", post(register))
        .route("/users/{id}", get(get_user))
        .route("/auth/token", post(login))
        .route("/products", post(create_product).get(list_products))
        .route(
            "/products/{id}",
            get(|Path(id): Path<Uuid>| async move { Json(json!({ "id": id })) }),
        )
        .route("/orders", post(create_order))
        .route("/orders/{id}", get(get_order))
        .with_state(state)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

impl Fake {
    /// The customer a request's token belongs to; counts the request, and drops every token
    /// when it is the one to revoke at.
    fn customer(&mut self, headers: &HeaderMap) -> Result<Uuid, StatusCode> {
        self.authed += 1;
        if self.revoke_at == Some(self.authed) {
            self.tokens.clear();
        }
        let revoked = self.revoke_at.is_some_and(|at| self.authed >= at);
        match bearer(headers).and_then(|t| self.tokens.get(t)) {
            Some(user) => {
                self.taken_after_revoke += u64::from(revoked);
                Ok(*user)
            }
            None => {
                self.refused += 1;
                Err(StatusCode::UNAUTHORIZED)
            }
        }
    }
}

async fn register(State(state): State<Shared>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let (Some(email), Some(password)) = (body["email"].as_str(), body["password"].as_str()) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({})));
    };
    assert!(body["name"].is_string() && password.len() >= 8);
    let id = Uuid::new_v4();
    let mut fake = state.lock().unwrap();
    fake.users.insert(email.to_owned(), (id, password.to_owned()));
    (StatusCode::CREATED, Json(json!({ "id": id, "email": email })))
}

async fn login(State(state): State<Shared>, Json(body): Json<Value>) -> Result<Json<Value>, StatusCode> {
    let mut fake = state.lock().unwrap();
    let email = body["email"].as_str().unwrap_or_default();
    let (id, password) = fake.users.get(email).cloned().ok_or(StatusCode::UNAUTHORIZED)?;
    if body["password"].as_str() != Some(password.as_str()) {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let token = format!("customer.{}", Uuid::new_v4().simple());
    fake.tokens.insert(token.clone(), id);
    fake.logins += 1;
    Ok(Json(
        json!({ "access_token": token, "token_type": "Bearer", "expires_in": 900 }),
    ))
}

async fn get_user(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Result<Json<Value>, StatusCode> {
    let caller = state.lock().unwrap().customer(&headers)?;
    if caller != id {
        return Err(StatusCode::NOT_FOUND);
    }
    Ok(Json(json!({ "id": id })))
}

async fn create_product(State(state): State<Shared>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
    if bearer(&headers) != Some(ADMIN) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "detail": "needs an admin token" })),
        );
    }
    let id = Uuid::new_v4();
    state.lock().unwrap().products.push(id);
    (StatusCode::CREATED, Json(json!({ "id": id })))
}

async fn list_products(State(state): State<Shared>) -> Json<Value> {
    let items: Vec<Value> = state
        .lock()
        .unwrap()
        .products
        .iter()
        .map(|id| json!({ "id": id, "category": "toys" }))
        .collect();
    Json(json!({ "items": items, "limit": 20, "offset": 0 }))
}

async fn create_order(
    State(state): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<(StatusCode, Json<Value>), StatusCode> {
    let id = Uuid::new_v4();
    let mut fake = state.lock().unwrap();
    let caller = fake.customer(&headers)?;
    if body["user_id"].as_str() != Some(caller.to_string().as_str()) {
        return Err(StatusCode::FORBIDDEN);
    }
    for item in body["items"].as_array().unwrap() {
        let product: Uuid = item["product_id"].as_str().unwrap().parse().unwrap();
        *fake.ordered.entry(product).or_default() += item["quantity"].as_u64().unwrap();
    }
    let order = json!({ "id": id, "status": "pending", "items": body["items"] });
    fake.orders.insert(id, (order.clone(), caller));
    Ok((StatusCode::CREATED, Json(order)))
}

async fn get_order(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Result<Json<Value>, StatusCode> {
    let mut fake = state.lock().unwrap();
    let caller = fake.customer(&headers)?;
    match fake.orders.get(&id) {
        Some((order, owner)) if *owner == caller => Ok(Json(order.clone())),
        _ => Err(StatusCode::NOT_FOUND),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journeys_report_every_order_and_quantity_they_placed() {
    // Arrange
    let state = Shared::default();
    let base = spawn(fake_shop(state.clone())).await;

    // Act
    let summary = run(&[
        "steady",
        "--rps",
        "40",
        "--duration",
        "1s",
        "--scenario",
        "journey",
        "--seed",
        "--seed-products",
        "7",
        "--user-url",
        &base,
        "--catalog-url",
        &base,
        "--order-url",
        &base,
        "--admin-token",
        ADMIN,
    ])
    .await;

    // Assert
    let fake = state.lock().unwrap();
    assert_eq!(fake.products.len(), 7);
    assert_eq!(fake.logins, 40, "one login per journey");
    assert_eq!(fake.refused, 0);
    assert_eq!(summary.total.errors, 0, "{}", summary.table());
    assert_eq!(summary.orders.created, 40);
    assert_eq!(summary.orders.created_ids.len(), fake.orders.len());
    assert!(summary.orders.created_ids.iter().all(|id| fake.orders.contains_key(id)));
    assert_eq!(summary.orders.quantity_by_product, fake.ordered);
    let names: Vec<&str> = summary.endpoints.iter().map(|e| e.endpoint.as_str()).collect();
    assert_eq!(
        names,
        [
            "GET /orders/{id}",
            "GET /products",
            "GET /products/{id}",
            "POST /auth/token",
            "POST /orders",
            "POST /users"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_log_in_again_when_their_tokens_stop_being_taken() {
    // Arrange: seeded customers whose tokens the shop drops after 30 customer requests.
    let state = Shared::default();
    state.lock().unwrap().revoke_at = Some(30);
    state.lock().unwrap().products.push(Uuid::new_v4());
    let base = spawn(fake_shop(state.clone())).await;

    // Act: orders and reads of users and orders, for the seeded customers only.
    let summary = run(&[
        "steady",
        "--rps",
        "80",
        "--duration",
        "1s",
        "--weights",
        "order=50,user=30,read-order=20",
        "--seed-users",
        "5",
        "--user-url",
        &base,
        "--catalog-url",
        &base,
        "--order-url",
        &base,
    ])
    .await;

    // Assert: every request after the drop that carried a dropped token was refused once and
    // sent again with a new one; nothing else failed.
    let fake = state.lock().unwrap();
    assert_eq!(fake.users.len(), 5, "no registrations beyond the seeded users");
    assert!(fake.taken_after_revoke > 20, "{} taken after", fake.taken_after_revoke);
    assert!(fake.logins > 5 && fake.logins <= 10, "{} logins", fake.logins);
    let unauthorized = summary.total.errors_by_status.get("401").copied().unwrap_or(0);
    assert_eq!(unauthorized, fake.refused, "{}", summary.table());
    assert_eq!(summary.total.errors, unauthorized, "{}", summary.table());
    assert!(summary.orders.created > 0);
}

#[tokio::test]
async fn seeding_without_an_admin_token_names_the_ways_to_give_one() {
    // Arrange
    let base = spawn(fake_shop(Shared::default())).await;
    let urls = ["--user-url", &base, "--catalog-url", &base, "--order-url", &base];

    // Act
    let mut args = vec!["steady", "--rps", "1", "--duration", "1s", "--seed"];
    args.extend_from_slice(&urls);
    let missing = try_run(&args).await.unwrap_err().to_string();
    args.extend_from_slice(&["--admin-token", "not.an.admin"]);
    let refused = format!("{:#}", try_run(&args).await.unwrap_err());

    // Assert
    assert!(
        missing.contains("--admin-token-file") && missing.contains("ADMIN_TOKEN"),
        "{missing}"
    );
    assert!(refused.contains("401") && refused.contains("admin-token"), "{refused}");
}
