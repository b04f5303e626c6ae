//! Preparing the pools a run draws on: seeding products and users, or discovering the catalogue.
//!
//! Seeding goes through the public API like any client, so it needs no database access and works
//! against any deployment. Setup requests are not part of the measured load.

use crate::scenario::{Action, Mix};
use crate::shop::{Pools, Targets};
use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

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

/// Builds the pools for `mix`, creating what `options` asks for.
pub async fn prepare(
    client: &reqwest::Client,
    targets: &Targets,
    mix: &Mix,
    options: SeedOptions,
) -> anyhow::Result<Pools> {
    let needs_products =
        mix.uses(|a| matches!(a, Action::Product | Action::Order | Action::ReadOrder | Action::Journey));
    let needs_users = mix.uses(|a| matches!(a, Action::User | Action::Order | Action::ReadOrder));
    let (products, categories) = if options.products {
        seed_products(client, &targets.catalog, options).await?
    } else if needs_products || mix.uses(|a| a == Action::List) {
        let (products, categories) = discover_products(client, &targets.catalog).await?;
        if products.is_empty() && needs_products {
            bail!(
                "the catalog at {} has no products: pass --seed to create some",
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
        products.push(create(client, &format!("{catalog}/products"), &body, "catalog-service").await?);
    }
    tracing::info!(count = products.len(), stock = options.stock, "seeded products");
    Ok((products, CATEGORIES.iter().map(|c| (*c).to_owned()).collect()))
}

async fn seed_users(client: &reqwest::Client, user: &str, count: usize) -> anyhow::Result<Vec<Uuid>> {
    let mut users = Vec::with_capacity(count);
    for _ in 0..count {
        let id = Uuid::new_v4().simple();
        let body = json!({ "email": format!("lg-{id}@load.test"), "name": format!("Load {id}") });
        users.push(create(client, &format!("{user}/users"), &body, "user-service").await?);
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

async fn create(client: &reqwest::Client, url: &str, body: &serde_json::Value, service: &str) -> anyhow::Result<Uuid> {
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    let response = client
        .post(url)
        .json(body)
        .send()
        .await
        .with_context(|| unreachable_hint(base, service))?;
    let status = response.status();
    if !status.is_success() {
        let detail = response.text().await.unwrap_or_default();
        bail!("seeding: POST {url} answered {status}: {detail}");
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
