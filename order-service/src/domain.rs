//! Orders, their validation and the idempotency key, free of HTTP and SQL.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service_kit::Invalid;
use uuid::Uuid;

/// Most lines in one order.
pub const MAX_ITEMS: usize = 50;
/// Most units of one product in one order.
pub const MAX_QUANTITY: i64 = 10_000;
/// Longest idempotency key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// Body of `POST /orders`. Ids are read as strings and the quantity as any JSON
/// number, so that a NUL byte, a malformed id or an out-of-range quantity is a 422
/// naming its field rather than a generic type error.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewOrderRequest {
    /// Who orders: a customer's own id (their token's subject), anyone's for an admin.
    #[schema(format = Uuid)]
    pub user_id: String,
    /// What is ordered.
    pub items: Vec<ItemRequest>,
}

/// One line of `POST /orders`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ItemRequest {
    /// Product to order.
    #[schema(format = Uuid)]
    pub product_id: String,
    /// Units, 1 to 10000.
    #[schema(value_type = i64, minimum = 1, maximum = 10000)]
    pub quantity: serde_json::Number,
}

/// A validated order request.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    /// Who orders.
    pub user_id: Uuid,
    /// Lines, each product once, in request order.
    pub items: Vec<(Uuid, i32)>,
}

/// Parses an id field; the message names what is wrong with it.
fn parse_id(raw: &str) -> Result<Uuid, &'static str> {
    if raw.contains('\0') {
        return Err("must not contain NUL bytes");
    }
    Uuid::parse_str(raw).map_err(|_| "must be a UUID")
}

impl NewOrder {
    /// Validates the request, reporting every bad field.
    pub fn parse(req: NewOrderRequest) -> Result<Self, Invalid> {
        let mut problem = Invalid::new("the order is invalid");
        let user_id = match parse_id(&req.user_id) {
            Ok(id) => Some(id),
            Err(m) => {
                problem = problem.with_error("user_id", m);
                None
            }
        };
        if req.items.is_empty() {
            problem = problem.with_error("items", "an order needs at least one item");
        } else if req.items.len() > MAX_ITEMS {
            problem = problem.with_error("items", format!("at most {MAX_ITEMS} items"));
        }
        let mut seen = HashSet::new();
        let mut items = Vec::with_capacity(req.items.len());
        for (i, item) in req.items.iter().enumerate() {
            let quantity = item
                .quantity
                .as_i64()
                .filter(|q| (1..=MAX_QUANTITY).contains(q))
                .and_then(|q| i32::try_from(q).ok());
            if quantity.is_none() {
                problem = problem.with_error(
                    &format!("items[{i}].quantity"),
                    format!("must be an integer from 1 to {MAX_QUANTITY}"),
                );
            }
            match parse_id(&item.product_id) {
                Err(m) => problem = problem.with_error(&format!("items[{i}].product_id"), m),
                Ok(id) if !seen.insert(id) => {
                    problem = problem.with_error(&format!("items[{i}].product_id"), "listed twice: merge the lines");
                }
                Ok(id) => items.extend(quantity.map(|q| (id, q))),
            }
        }
        match user_id {
            Some(user_id) if problem.errors.is_empty() => Ok(Self { user_id, items }),
            _ => Err(problem),
        }
    }

    /// A stable description of the request, to tell a replay from a reused key.
    pub fn fingerprint(&self) -> String {
        let mut items: Vec<_> = self.items.iter().map(|(p, q)| format!("{p}:{q}")).collect();
        items.sort();
        format!("{}|{}", self.user_id, items.join(","))
    }
}

/// A validated `Idempotency-Key` header value.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Visible ASCII, 1 to `MAX_KEY_LEN` characters.
    pub fn parse(raw: &str) -> Result<Self, crate::Error> {
        if raw.is_empty() || raw.len() > MAX_KEY_LEN || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(crate::Error::KeyMalformed);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored order with its lines.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Order {
    /// Identifier.
    pub id: Uuid,
    /// Who ordered.
    pub user_id: Uuid,
    /// `reserving` (the saga is taking stock), `pending` (every line reserved, queued),
    /// `completed` (fulfilled by the worker) or `failed` (see `failure_kind`).
    pub status: String,
    /// Sum of quantity times unit price; 0 until every line is reserved.
    pub total_cents: i64,
    /// Which step failed, when it did (a [`FailureKind`] name).
    pub failure_kind: Option<String>,
    /// Why it failed, when it did.
    pub failure_reason: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When the worker completed it.
    pub completed_at: Option<DateTime<Utc>>,
    /// When a failed order's stock was all given back; a failed order without it still
    /// holds some, until the reconciler releases it.
    pub stock_released_at: Option<DateTime<Utc>>,
    /// Lines.
    pub items: Vec<OrderItem>,
}

/// One line of a stored order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct OrderItem {
    /// Product.
    pub product_id: Uuid,
    /// Units.
    pub quantity: i32,
    /// Price per unit, from the catalog at reservation time; `None` until reserved.
    pub unit_price_cents: Option<i64>,
    /// Saga state of the line: `to_reserve`, `reserved` or `released`.
    pub state: String,
}

/// Why an order failed; stored by name in `orders.failure_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// A product had too little stock (409).
    OutOfStock,
    /// A product does not exist (422).
    UnknownProduct,
    /// The order is invalid only once priced: its total overflows (422).
    Invalid,
    /// The catalog did not answer in time (503).
    Unavailable,
    /// The saga was interrupted (crash, lost task) and the reconciler gave up on it.
    Interrupted,
    /// The worker took the order too often without finishing it.
    Attempts,
}

impl FailureKind {
    const ALL: [Self; 6] = [
        Self::OutOfStock,
        Self::UnknownProduct,
        Self::Invalid,
        Self::Unavailable,
        Self::Interrupted,
        Self::Attempts,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OutOfStock => "out_of_stock",
            Self::UnknownProduct => "unknown_product",
            Self::Invalid => "invalid",
            Self::Unavailable => "unavailable",
            Self::Interrupted => "interrupted",
            Self::Attempts => "attempts",
        }
    }

    /// The kind of a stored name; `None` for an unknown one (an older or newer release).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A total that does not fit in an `i64` of cents; names the request field to blame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overflow {
    /// The request field (`items[2].quantity`, or `items` for the sum).
    pub field: String,
    /// What overflowed.
    pub detail: String,
}

/// Price of one line, refusing rather than saturating on overflow.
pub fn line_total(line_no: usize, quantity: i32, unit_price_cents: i64) -> Result<i64, Overflow> {
    unit_price_cents
        .checked_mul(i64::from(quantity))
        .ok_or_else(|| Overflow {
            field: format!("items[{line_no}].quantity"),
            detail: format!("{quantity} units at {unit_price_cents} cents overflow the order total"),
        })
}

/// Sum of `(line_no, quantity, unit price)` lines, refusing rather than saturating.
pub fn checked_total(lines: impl IntoIterator<Item = (usize, i32, i64)>) -> Result<i64, Overflow> {
    lines.into_iter().try_fold(0i64, |acc, (no, q, p)| {
        acc.checked_add(line_total(no, q, p)?).ok_or_else(|| Overflow {
            field: "items".into(),
            detail: "the sum of the lines overflows the order total".into(),
        })
    })
}

/// Text from elsewhere (another service's detail) made safe to store: PostgreSQL
/// refuses NUL in `text`, and a reason needs no more than a few hundred characters.
pub fn storable(text: &str) -> String {
    text.chars().filter(|c| *c != '\0').take(500).collect()
}

/// The fulfilment work: `rounds` of integer hashing per unit of work. Real CPU, so
/// that order load shows up in the worker's CPU, which is what the platform scales on.
pub fn fulfilment_work(order_id: Uuid, items: &[OrderItem], rounds: u64) -> u64 {
    let mut h = order_id.as_u128() as u64 ^ 0x9E37_79B9_7F4A_7C15;
    for item in items {
        h ^= item.product_id.as_u128() as u64;
        for _ in 0..rounds {
            // splitmix64: cheap, and the optimiser cannot skip it since the result is used.
            h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = h;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            h ^= z ^ (z >> 31);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(items: &[(Uuid, i64)]) -> NewOrderRequest {
        NewOrderRequest {
            user_id: Uuid::nil().to_string(),
            items: items
                .iter()
                .map(|(p, q)| ItemRequest {
                    product_id: p.to_string(),
                    quantity: (*q).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn nul_bytes_and_bad_ids_are_named_by_field() {
        let mut bad = req(&[(Uuid::new_v4(), 1), (Uuid::new_v4(), 1)]);
        bad.user_id.push('\0');
        bad.items[1].product_id = "\0".into();
        let err = NewOrder::parse(bad).err().unwrap_or_else(|| panic!());
        assert_eq!(err.detail, "the order is invalid");
        assert_eq!(err.errors["user_id"], "must not contain NUL bytes");
        assert_eq!(err.errors["items[1].product_id"], "must not contain NUL bytes");
        assert!(!err.errors.contains_key("items[0].product_id"));
    }

    #[test]
    fn quantities_beyond_the_range_or_fractional_are_refused() {
        let mut r = req(&[(Uuid::new_v4(), 1), (Uuid::new_v4(), 1), (Uuid::new_v4(), 1)]);
        r.items[0].quantity = i64::MAX.into();
        r.items[1].quantity = serde_json::Number::from_f64(1.5).unwrap_or_else(|| panic!());
        r.items[2].quantity = u64::MAX.into();
        let err = NewOrder::parse(r).err().unwrap_or_else(|| panic!());
        for field in ["items[0].quantity", "items[1].quantity", "items[2].quantity"] {
            assert!(err.errors.contains_key(field), "{field}: {err:?}");
        }
        let ok = NewOrder::parse(req(&[(Uuid::nil(), MAX_QUANTITY)])).map(|o| o.items);
        assert_eq!(ok.ok(), Some(vec![(Uuid::nil(), 10_000)]));
    }

    #[test]
    fn empty_negative_zero_and_duplicate_lines_are_all_reported() {
        assert!(NewOrder::parse(req(&[])).is_err());
        let p = Uuid::new_v4();
        let err = NewOrder::parse(req(&[(p, 0), (Uuid::new_v4(), -2), (p, 1)]))
            .err()
            .unwrap_or_else(|| panic!());
        assert_eq!(err.detail, "the order is invalid");
        for field in ["items[0].quantity", "items[1].quantity", "items[2].product_id"] {
            assert!(err.errors.contains_key(field), "{field}: {err:?}");
        }
    }

    #[test]
    fn fingerprint_ignores_line_order() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let one = NewOrder::parse(req(&[(a, 1), (b, 2)])).map(|o| o.fingerprint()).ok();
        let two = NewOrder::parse(req(&[(b, 2), (a, 1)])).map(|o| o.fingerprint()).ok();
        let other = NewOrder::parse(req(&[(b, 3), (a, 1)])).map(|o| o.fingerprint()).ok();
        assert_eq!(one, two);
        assert_ne!(one, other);
    }

    #[test]
    fn idempotency_key_rules() {
        assert!(IdempotencyKey::parse("order-42").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(MAX_KEY_LEN + 1)).is_err());
    }

    #[test]
    fn total_multiplies_and_sums_and_names_what_overflows() {
        assert_eq!(checked_total([(0, 2, 150), (1, 1, 99)]), Ok(399));
        let line = checked_total([(0, 1, 5), (1, 2, i64::MAX / 2 + 1)]).err();
        assert_eq!(line.map(|o| o.field).as_deref(), Some("items[1].quantity"));
        let sum = checked_total([(0, 1, i64::MAX), (1, 1, 1)]).err();
        assert_eq!(sum.map(|o| o.field).as_deref(), Some("items"));
        assert_eq!(
            checked_total([(0, 1, i64::MAX)]),
            Ok(i64::MAX),
            "exactly the largest is fine"
        );
    }

    #[test]
    fn failure_kinds_round_trip_by_name() {
        for kind in FailureKind::ALL {
            assert_eq!(FailureKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(FailureKind::parse("something new"), None);
    }

    #[test]
    fn storable_text_has_no_nul_and_a_bounded_length() {
        assert_eq!(storable("a\0b"), "ab");
        assert_eq!(storable(&"x".repeat(1000)).len(), 500);
    }

    #[test]
    fn work_depends_on_rounds_and_input() {
        let items = [OrderItem {
            product_id: Uuid::from_u128(7),
            quantity: 1,
            unit_price_cents: Some(1),
            state: "reserved".into(),
        }];
        let id = Uuid::from_u128(1);
        assert_eq!(fulfilment_work(id, &items, 10), fulfilment_work(id, &items, 10));
        assert_ne!(fulfilment_work(id, &items, 10), fulfilment_work(id, &items, 11));
    }
}
