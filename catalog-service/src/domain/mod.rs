//! Products, stock reservations and their validation, free of HTTP and SQL.

mod stock;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service_kit::Problem;
use uuid::Uuid;

pub use stock::{ReleaseRequest, Reservation, ReserveRequest, StockChangeRequest};

/// A product with its stock.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, sqlx::FromRow)]
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
#[derive(Debug, Deserialize)]
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
#[derive(Debug, Default, Deserialize)]
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

/// A validated product (new or changed: absent fields are `None` only in a change).
#[derive(Debug, Default, PartialEq)]
pub struct ProductFields {
    /// Unique stock-keeping unit.
    pub sku: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Unit price in cents.
    pub price_cents: Option<i64>,
    /// Stock.
    pub stock: Option<i32>,
}

/// What a text field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Text {
    /// One non-empty line: no control characters.
    Line,
    /// Free text, possibly empty, over several lines.
    Free,
}

/// Collects field errors so that one response lists all of them.
#[derive(Default)]
struct Checker {
    problem: Option<Problem>,
}

impl Checker {
    fn fail(&mut self, field: &str, msg: String) {
        let p = self
            .problem
            .take()
            .unwrap_or_else(|| Problem::unprocessable("the product is invalid"));
        self.problem = Some(p.with_error(field, msg));
    }

    fn text(&mut self, field: &str, raw: Option<&str>, max: usize, kind: Text) -> Option<String> {
        let v = raw?.trim();
        let storable = match kind {
            Text::Line => service_kit::text::single_line(v),
            Text::Free => service_kit::text::storable(v),
        };
        if let Err(e) = storable {
            self.fail(field, e);
        } else if kind == Text::Line && v.is_empty() {
            self.fail(field, "must not be empty".into());
        } else if v.chars().count() > max {
            self.fail(field, format!("must be at most {max} characters"));
        }
        Some(v.to_owned())
    }

    fn range(&mut self, field: &str, raw: Option<i64>, max: i64) -> Option<i64> {
        let v = raw?;
        if !(0..=max).contains(&v) {
            self.fail(field, format!("must be between 0 and {max}"));
        }
        Some(v)
    }

    fn finish(self, fields: ProductFields) -> Result<ProductFields, Problem> {
        self.problem.map_or(Ok(fields), Err)
    }
}

fn check(req: UpdateProductRequest, sku: Option<&str>) -> Result<ProductFields, Problem> {
    let mut c = Checker::default();
    let sku = c.text("sku", sku, 64, Text::Line);
    if sku
        .as_deref()
        .is_some_and(|s| !s.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch)))
    {
        c.fail("sku", "may contain only letters, digits, '-', '_' and '.'".into());
    }
    let fields = ProductFields {
        sku,
        name: c.text("name", req.name.as_deref(), 200, Text::Line),
        description: c.text("description", req.description.as_deref(), 2000, Text::Free),
        category: c.text("category", req.category.as_deref(), MAX_CATEGORY_CHARS, Text::Line),
        price_cents: c.range("price_cents", req.price_cents, i64::MAX / 2),
        stock: c
            .range("stock", req.stock, MAX_STOCK)
            .map(|s| s.clamp(0, MAX_STOCK) as i32),
    };
    c.finish(fields)
}

/// Validates a new product; every field is then present.
pub fn parse_new(req: NewProductRequest) -> Result<ProductFields, Problem> {
    let as_update = UpdateProductRequest {
        name: Some(req.name),
        description: Some(req.description),
        category: Some(req.category),
        price_cents: Some(req.price_cents),
        stock: Some(req.stock),
    };
    check(as_update, Some(&req.sku))
}

/// Validates a change; an empty change is invalid.
pub fn parse_change(req: UpdateProductRequest) -> Result<ProductFields, Problem> {
    let fields = check(req, None)?;
    if fields == ProductFields::default() {
        return Err(Problem::unprocessable("nothing to change"));
    }
    Ok(fields)
}

/// The `?category=` filter of a listing, when it can name a category at all. Checked
/// like a stored category, so that a NUL never reaches PostgreSQL (422, not 500).
pub fn parse_category_filter(raw: Option<&str>) -> Result<Option<&str>, Problem> {
    let Some(category) = raw else { return Ok(None) };
    let invalid = |msg: String| Problem::unprocessable("invalid `category` filter").with_error("category", msg);
    service_kit::text::single_line(category).map_err(invalid)?;
    if category.chars().count() > MAX_CATEGORY_CHARS {
        return Err(invalid(format!("must be at most {MAX_CATEGORY_CHARS} characters")));
    }
    Ok(Some(category))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(sku: &str, price: i64, stock: i64) -> NewProductRequest {
        NewProductRequest {
            sku: sku.into(),
            name: "Mug".into(),
            description: String::new(),
            category: "kitchen".into(),
            price_cents: price,
            stock,
        }
    }

    #[test]
    fn valid_product_has_every_field() {
        let f = parse_new(new("MUG-1", 1299, 5)).unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(
            (f.sku.as_deref(), f.price_cents, f.stock),
            (Some("MUG-1"), Some(1299), Some(5))
        );
    }

    #[test]
    fn negative_numbers_and_bad_sku_are_all_reported() {
        let p = parse_new(new("bad sku!", -1, -5))
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert_eq!(p.status, 422);
        for field in ["sku", "price_cents", "stock"] {
            assert!(p.errors.contains_key(field), "{field} missing in {p:?}");
        }
    }

    #[test]
    fn stock_above_the_cap_is_rejected() {
        assert!(parse_new(new("A", 1, MAX_STOCK + 1)).is_err());
        assert!(parse_new(new("A", 1, MAX_STOCK)).is_ok());
    }

    #[test]
    fn empty_change_is_rejected() {
        assert!(parse_change(UpdateProductRequest::default()).is_err());
        let c = parse_change(UpdateProductRequest {
            stock: Some(3),
            ..Default::default()
        });
        assert_eq!(c.ok().and_then(|f| f.stock), Some(3));
    }

    #[test]
    fn nul_in_any_text_field_is_reported_by_name() {
        let mut req = new("NUL", 1, 1);
        req.name = "a\u{0}b".into();
        req.description = "line\nand \u{0}".into();
        req.category = "c\u{0}".into();
        let p = parse_new(req).err().unwrap_or_else(|| panic!("accepted"));
        for field in ["name", "description", "category"] {
            assert!(p.errors.contains_key(field), "{field} missing in {p:?}");
        }
        let mut multi_line = new("ML", 1, 1);
        multi_line.description = "two\nlines".into();
        assert!(parse_new(multi_line).is_ok(), "descriptions may span lines");
    }

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
