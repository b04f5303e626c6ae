//! Validation of new and changed products: every field is checked and all bad
//! fields are reported at once, as 422 field errors.

use service_kit::Invalid;

use super::{MAX_CATEGORY_CHARS, MAX_STOCK, NewProductRequest, UpdateProductRequest};

/// Longest sku, in characters.
const MAX_SKU_CHARS: usize = 64;
/// Longest name, in characters.
const MAX_NAME_CHARS: usize = 200;
/// Longest description, in characters.
const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Largest price: leaves room to multiply by a quantity and sum.
const MAX_PRICE_CENTS: i64 = i64::MAX / 2;
/// The detail of every invalid product.
const INVALID: &str = "the product is invalid";

/// A validated new product.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProduct {
    /// Unique stock-keeping unit: letters, digits, `-`, `_` and `.`.
    pub sku: String,
    /// Display name, one line.
    pub name: String,
    /// Free text, possibly empty.
    pub description: String,
    /// Category, one line.
    pub category: String,
    /// Unit price in cents.
    pub price_cents: i64,
    /// Initial stock.
    pub stock: i32,
}

/// A validated change: fields left out are `None` and stay as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductChange {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New category.
    pub category: Option<String>,
    /// New unit price in cents.
    pub price_cents: Option<i64>,
    /// New absolute stock.
    pub stock: Option<i32>,
}

impl NewProduct {
    /// Validates every field and reports all problems at once.
    pub fn parse(req: NewProductRequest) -> Result<Self, Invalid> {
        let mut invalid = Invalid::new(INVALID);
        let sku = invalid.check("sku", parse_sku(&req.sku));
        let name = invalid.check("name", parse_name(&req.name));
        let description = invalid.check("description", parse_description(&req.description));
        let category = invalid.check("category", parse_category(&req.category));
        let price_cents = invalid.check("price_cents", parse_price(req.price_cents));
        let stock = invalid.check("stock", parse_stock(req.stock));
        match (sku, name, description, category, price_cents, stock) {
            (Some(sku), Some(name), Some(description), Some(category), Some(price_cents), Some(stock)) => Ok(Self {
                sku,
                name,
                description,
                category,
                price_cents,
                stock,
            }),
            _ => Err(invalid),
        }
    }
}

impl ProductChange {
    /// Validates the fields present; an empty change is invalid.
    pub fn parse(req: UpdateProductRequest) -> Result<Self, Invalid> {
        let mut invalid = Invalid::new(INVALID);
        let change = Self {
            name: invalid.check_opt("name", req.name.as_deref().map(parse_name)),
            description: invalid.check_opt("description", req.description.as_deref().map(parse_description)),
            category: invalid.check_opt("category", req.category.as_deref().map(parse_category)),
            price_cents: invalid.check_opt("price_cents", req.price_cents.map(parse_price)),
            stock: invalid.check_opt("stock", req.stock.map(parse_stock)),
        };
        invalid.finish()?;
        if change == Self::default() {
            return Err(Invalid::new("nothing to change"));
        }
        Ok(change)
    }
}

/// What a text field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Text {
    /// One non-empty line: no control characters.
    Line,
    /// Free text, possibly empty, over several lines.
    Free,
}

/// Trims and checks a text field.
fn text(raw: &str, max: usize, kind: Text) -> Result<String, String> {
    let v = raw.trim();
    match kind {
        Text::Line => service_kit::text::single_line(v)?,
        Text::Free => service_kit::text::storable(v)?,
    }
    if kind == Text::Line && v.is_empty() {
        Err("must not be empty".into())
    } else if v.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else {
        Ok(v.to_owned())
    }
}

/// The character set is checked last and wins, so that a sku with a NUL is told
/// which characters it may have.
fn parse_sku(raw: &str) -> Result<String, String> {
    let sku = text(raw, MAX_SKU_CHARS, Text::Line);
    if raw
        .trim()
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
    {
        sku
    } else {
        Err("may contain only letters, digits, '-', '_' and '.'".into())
    }
}

fn parse_name(raw: &str) -> Result<String, String> {
    text(raw, MAX_NAME_CHARS, Text::Line)
}

fn parse_description(raw: &str) -> Result<String, String> {
    text(raw, MAX_DESCRIPTION_CHARS, Text::Free)
}

fn parse_category(raw: &str) -> Result<String, String> {
    text(raw, MAX_CATEGORY_CHARS, Text::Line)
}

fn in_range(v: i64, max: i64) -> Result<i64, String> {
    if (0..=max).contains(&v) {
        Ok(v)
    } else {
        Err(format!("must be between 0 and {max}"))
    }
}

fn parse_price(raw: i64) -> Result<i64, String> {
    in_range(raw, MAX_PRICE_CENTS)
}

fn parse_stock(raw: i64) -> Result<i32, String> {
    in_range(raw, MAX_STOCK).and_then(|s| i32::try_from(s).map_err(|_| format!("must be between 0 and {MAX_STOCK}")))
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
        let f = NewProduct::parse(new(" MUG-1 ", 1299, 5)).unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(
            f,
            NewProduct {
                sku: "MUG-1".into(),
                name: "Mug".into(),
                description: String::new(),
                category: "kitchen".into(),
                price_cents: 1299,
                stock: 5
            }
        );
    }

    #[test]
    fn negative_numbers_and_bad_sku_are_all_reported() {
        let p = NewProduct::parse(new("bad sku!", -1, -5))
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert_eq!(p.detail, "the product is invalid");
        assert_eq!(p.errors["sku"], "may contain only letters, digits, '-', '_' and '.'");
        assert_eq!(
            p.errors["price_cents"],
            format!("must be between 0 and {}", i64::MAX / 2)
        );
        assert_eq!(p.errors["stock"], format!("must be between 0 and {MAX_STOCK}"));
        assert_eq!(p.errors.len(), 3);
    }

    #[test]
    fn stock_above_the_cap_is_rejected() {
        assert!(NewProduct::parse(new("A", 1, MAX_STOCK + 1)).is_err());
        assert!(NewProduct::parse(new("A", 1, MAX_STOCK)).is_ok());
    }

    #[test]
    fn empty_change_is_rejected() {
        assert!(ProductChange::parse(UpdateProductRequest::default()).is_err());
        let c = ProductChange::parse(UpdateProductRequest {
            stock: Some(3),
            ..Default::default()
        });
        assert_eq!(
            c.ok(),
            Some(ProductChange {
                stock: Some(3),
                ..Default::default()
            })
        );
        let p = ProductChange::parse(UpdateProductRequest::default())
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert_eq!((p.detail.as_str(), p.errors.len()), ("nothing to change", 0));
    }

    #[test]
    fn a_change_checks_only_the_fields_present_and_reports_them_all() {
        let p = ProductChange::parse(UpdateProductRequest {
            name: Some("  ".into()),
            price_cents: Some(-1),
            ..Default::default()
        })
        .err()
        .unwrap_or_else(|| panic!("accepted"));
        assert_eq!(p.detail, "the product is invalid");
        assert_eq!(p.errors["name"], "must not be empty");
        assert!(p.errors.contains_key("price_cents"));
        assert_eq!(p.errors.len(), 2);
        let c = ProductChange::parse(UpdateProductRequest {
            description: Some(" two\nlines ".into()),
            ..Default::default()
        });
        assert_eq!(c.ok().and_then(|c| c.description).as_deref(), Some("two\nlines"));
    }

    #[test]
    fn sku_messages_match_the_rule_that_fails() {
        let sku = |s: &str| NewProduct::parse(new(s, 1, 1)).err().map(|p| p.errors["sku"].clone());
        assert_eq!(sku("").as_deref(), Some("must not be empty"));
        assert_eq!(sku(&"A".repeat(65)).as_deref(), Some("must be at most 64 characters"));
        assert_eq!(
            sku("A\u{0}").as_deref(),
            Some("may contain only letters, digits, '-', '_' and '.'")
        );
        assert_eq!(sku("A-1_b.2"), None);
    }

    #[test]
    fn nul_in_any_text_field_is_reported_by_name() {
        let mut req = new("NUL", 1, 1);
        req.name = "a\u{0}b".into();
        req.description = "line\nand \u{0}".into();
        req.category = "c\u{0}".into();
        let p = NewProduct::parse(req).err().unwrap_or_else(|| panic!("accepted"));
        for field in ["name", "description", "category"] {
            assert!(p.errors.contains_key(field), "{field} missing in {p:?}");
        }
        let mut multi_line = new("ML", 1, 1);
        multi_line.description = "two\nlines".into();
        assert!(NewProduct::parse(multi_line).is_ok(), "descriptions may span lines");
    }
}
