//! Preparing the pools a run draws on: seeding products and users, or discovering the catalogue.
//!
//! Seeding goes through the public API like any client, so it needs no database access and works
//! against any deployment: products with the admin token, users by registering (open). Setup
//! requests are not part of the measured load.

use crate::auth::{self, Bearer, Credentials, Customer};
use crate::scenario::{Action, Mix};
use crate::shop::{Pools, Targets};
use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use tokio::task::JoinSet;
use uuid::Uuid;

/// Registrations in flight at once while seeding users: user-service hashes each password
/// (argon2, tens of milliseconds of CPU), so one at a time is slow and all at once would
/// only queue on its cores.
const REGISTRATIONS_IN_FLIGHT: usize = 8;

const CATEGORIES: [&str; 5] = ["books", "games", "garden", "kitchen", "toys"];

/// What to create before the run.
#[derive(Debug, Clone, Copy)]
pub struct SeedOptions {
    /// Create products (otherwise the existing catalogue is used).
    pub products: bool,
    /// How many products to create.
    pub product_count: usize,
    /// Stock of each created product: ample, so that orders never run short.
    pub stock: u64,
    /// How many users to create when the mix needs existing users (always created: users cannot be listed).
    pub user_count: usize,
}

#[derive(Deserialize)]
struct Page {
    items: Vec<ListedProduct>,
}

#[derive(Deserialize)]
struct ListedProduct {
    id: Uuid,
    category: String,
}

#[derive(Deserialize)]
struct Created {
    id: Uuid,
}

/// Builds the pools for `mix`, creating what `options` asks for; creating products needs
/// `admin`.
pub async fn prepare(
    client: &reqwest::Client,
    targets: &Targets,
    mix: &Mix,
    options: SeedOptions,
    admin: Option<&Bearer>,
) -> anyhow::Result<Pools> {
    let needs_products =
        mix.uses(|a| matches!(a, Action::Product | Action::Order | Action::ReadOrder | Action::Journey));
    let needs_users = mix.uses(|a| matches!(a, Action::User | Action::Order | Action::ReadOrder));
    let (products, categories) = if options.products {
        let admin = admin.ok_or_else(auth::admin_token_missing)?;
        seed_products(client, &targets.catalog, options, admin).await?
    } else if needs_products || mix.uses(|a| a == Action::List) {
        let (products, categories) = discover_products(client, &targets.catalog).await?;
        if products.is_empty() && needs_products {
            bail!(
                "the catalog at {} has no products: pass --seed (and an admin token) to create some",
                targets.catalog
            );
        }
        (products, categories)
    } else {
        (Vec::new(), Vec::new())
    };
    let users = if needs_users {
        seed_users(client, &targets.user, options.user_count).await?
    } else {
        Vec::new()
    };
    tracing::info!(products = products.len(), users = users.len(), "pools ready");
    Ok(Pools::new(products, categories, users))
}

async fn seed_products(
    client: &reqwest::Client,
    catalog: &str,
    options: SeedOptions,
    admin: &Bearer,
) -> anyhow::Result<(Vec<Uuid>, Vec<String>)> {
    // A per-run prefix keeps SKUs unique across runs against the same database.
    let run = Uuid::new_v4().simple().to_string();
    let run = &run[..8];
    let mut products = Vec::with_capacity(options.product_count);
    for i in 0..options.product_count {
        let category = CATEGORIES[i % CATEGORIES.len()];
        let body = json!({
            "sku": format!("lg-{run}-{i}"),
            "name": format!("Load test item {i}"),
            "description": "created by load-generator --seed",
            "category": category,
            "price_cents": fastrand::u32(100..10_000),
            "stock": options.stock,
        });
        let url = format!("{catalog}/products");
        products.push(create(client, &url, &body, "catalog-service", Some(admin)).await?);
    }
    tracing::info!(count = products.len(), stock = options.stock, "seeded products");
    Ok((products, CATEGORIES.iter().map(|c| (*c).to_owned()).collect()))
}

/// Registers `count` customers, a few at a time. They log in when first used, as part of
/// the measured load.
async fn seed_users(client: &reqwest::Client, user: &str, count: usize) -> anyhow::Result<Vec<Arc<Customer>>> {
    let mut users = Vec::with_capacity(count);
    let mut registering = JoinSet::new();
    for i in 0..count {
        if i >= REGISTRATIONS_IN_FLIGHT
            && let Some(done) = registering.join_next().await
        {
            users.push(done.context("registering a user")??);
        }
        let (client, url) = (client.clone(), format!("{user}/users"));
        registering.spawn(async move {
            let credentials = Credentials::fresh();
            let id = create(&client, &url, &credentials.registration(), "user-service", None).await?;
            Ok::<_, anyhow::Error>(Arc::new(Customer::new(id, credentials)))
        });
    }
    while let Some(done) = registering.join_next().await {
        users.push(done.context("registering a user")??);
    }
    tracing::info!(count = users.len(), "seeded users");
    Ok(users)
}

async fn discover_products(client: &reqwest::Client, catalog: &str) -> anyhow::Result<(Vec<Uuid>, Vec<String>)> {
    let url = format!("{catalog}/products?limit=500");
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| unreachable_hint(catalog, "catalog-service"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("GET {url} answered {status}");
    }
    let page: Page = response
        .json()
        .await
        .with_context(|| format!("GET {url}: unexpected body"))?;
    let mut categories: Vec<String> = page.items.iter().map(|p| p.category.clone()).collect();
    categories.sort();
    categories.dedup();
    Ok((page.items.into_iter().map(|p| p.id).collect(), categories))
}

async fn create(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
    service: &str,
    admin: Option<&Bearer>,
) -> anyhow::Result<Uuid> {
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    let mut request = client.post(url).json(body);
    if let Some(admin) = admin {
        request = request.header(reqwest::header::AUTHORIZATION, admin.header());
    }
    let response = request.send().await.with_context(|| unreachable_hint(base, service))?;
    let status = response.status();
    if !status.is_success() {
        let detail = response.text().await.unwrap_or_default();
        let hint = match status.as_u16() {
            401 => {
                " (the admin token is malformed, has expired or was signed with another secret: `make up` mints a fresh one into .run/admin-token)"
            }
            403 => " (the token is not an admin token: mint one with `issue-token --role admin`)",
            _ => "",
        };
        bail!("seeding: POST {url} answered {status}: {detail}{hint}");
    }
    let created: Created = response
        .json()
        .await
        .with_context(|| format!("seeding: POST {url}: unexpected body"))?;
    Ok(created.id)
}

fn unreachable_hint(base: &str, service: &str) -> String {
    format!("cannot reach {service} at {base}: is the platform running (`make up`)?")
}
