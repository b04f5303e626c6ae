//! Products, stock reservations and their validation, free of HTTP and SQL.

mod product;
mod stock;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service_kit::Invalid;
use uuid::Uuid;

pub use product::{NewProduct, ProductChange};
pub use stock::{ReleaseRequest, Reservation, ReserveRequest, StockChangeRequest};

/// A product with its stock.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Product {
    /// Identifier, chosen by the service.
    pub id: Uuid,
    /// Stock-keeping unit, unique.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Category used for listing.
    pub category: String,
    /// Unit price in cents.
    pub price_cents: i64,
    /// Units available to reserve.
    pub stock: i32,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change, stock included: the product's `ETag`, and the order of
    /// cache entries.
    pub version: i64,
}

/// Body of `POST /products`. Numbers are read as i64 so that a negative value is a
/// validation error (422) rather than a type error.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewProductRequest {
    /// Unique stock-keeping unit.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Optional free text.
    #[serde(default)]
    pub description: String,
    /// Category.
    pub category: String,
    /// Unit price in cents, 0 or more.
    pub price_cents: i64,
    /// Initial stock, 0 or more.
    #[serde(default)]
    pub stock: i64,
}

/// Body of `PATCH /products/{id}`: fields left out stay as they are.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProductRequest {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New category.
    pub category: Option<String>,
    /// New unit price in cents.
    pub price_cents: Option<i64>,
    /// New absolute stock (restocking). Reservations already taken are not affected.
    pub stock: Option<i64>,
}

/// Largest stock and reservation size accepted (fits `integer` with room to add).
pub const MAX_STOCK: i64 = 1_000_000_000;
/// Largest quantity one order line may reserve.
pub const MAX_QUANTITY: i64 = 10_000;
/// Longest category, in characters.
pub const MAX_CATEGORY_CHARS: usize = 64;

/// The `?category=` filter of a listing, when it can name a category at all. Checked
/// like a stored category, so that a NUL never reaches PostgreSQL (422, not 500).
pub fn parse_category_filter(raw: Option<&str>) -> Result<Option<&str>, Invalid> {
    let Some(category) = raw else { return Ok(None) };
    let invalid = |msg: String| Invalid::new("invalid `category` filter").with_error("category", msg);
    service_kit::text::single_line(category).map_err(invalid)?;
    if category.chars().count() > MAX_CATEGORY_CHARS {
        return Err(invalid(format!("must be at most {MAX_CATEGORY_CHARS} characters")));
    }
    Ok(Some(category))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_filter_refuses_what_cannot_be_a_category() {
        assert_eq!(parse_category_filter(None).ok(), Some(None));
        assert_eq!(parse_category_filter(Some("garden")).ok(), Some(Some("garden")));
        let p = parse_category_filter(Some("\u{0}"))
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert!(p.errors.contains_key("category"));
        assert!(parse_category_filter(Some(&"x".repeat(MAX_CATEGORY_CHARS + 1))).is_err());
    }
}
