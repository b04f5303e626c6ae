//! Orders, their validation and the idempotency key, free of HTTP and SQL.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service_kit::Problem;
use uuid::Uuid;

/// Most lines in one order.
pub const MAX_ITEMS: usize = 50;
/// Most units of one product in one order.
pub const MAX_QUANTITY: i64 = 10_000;
/// Longest idempotency key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// Body of `POST /orders`. Quantities are read as i64 so that a negative one is a
/// validation error (422), not a type error.
#[derive(Debug, Deserialize)]
pub struct NewOrderRequest {
    /// Who orders.
    pub user_id: Uuid,
    /// What is ordered.
    pub items: Vec<ItemRequest>,
}

/// One line of `POST /orders`.
#[derive(Debug, Deserialize)]
pub struct ItemRequest {
    /// Product to order.
    pub product_id: Uuid,
    /// Units, 1 to `MAX_QUANTITY`.
    pub quantity: i64,
}

/// A validated order request.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    /// Who orders.
    pub user_id: Uuid,
    /// Lines, each product once, in request order.
    pub items: Vec<(Uuid, i32)>,
}

impl NewOrder {
    /// Validates the request, reporting every bad line.
    pub fn parse(req: NewOrderRequest) -> Result<Self, Problem> {
        let mut problem = Problem::unprocessable("the order is invalid");
        if req.items.is_empty() {
            problem = problem.with_error("items", "an order needs at least one item");
        } else if req.items.len() > MAX_ITEMS {
            problem = problem.with_error("items", format!("at most {MAX_ITEMS} items"));
        }
        let mut seen = HashSet::new();
        for (i, item) in req.items.iter().enumerate() {
            if !(1..=MAX_QUANTITY).contains(&item.quantity) {
                problem = problem.with_error(&format!("items[{i}].quantity"), format!("must be 1 to {MAX_QUANTITY}"));
            }
            if !seen.insert(item.product_id) {
                problem = problem.with_error(&format!("items[{i}].product_id"), "listed twice: merge the lines");
            }
        }
        if !problem.errors.is_empty() {
            return Err(problem);
        }
        let items = req.items.iter().map(|i| (i.product_id, i.quantity as i32)).collect();
        Ok(Self {
            user_id: req.user_id,
            items,
        })
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
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        if raw.is_empty() || raw.len() > MAX_KEY_LEN || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Problem::bad_request(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored order with its lines.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Order {
    /// Identifier.
    pub id: Uuid,
    /// Who ordered.
    pub user_id: Uuid,
    /// `pending`, `completed` or `failed`.
    pub status: String,
    /// Sum of quantity times unit price.
    pub total_cents: i64,
    /// Why it failed, when it did.
    pub failure_reason: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When the worker completed it.
    pub completed_at: Option<DateTime<Utc>>,
    /// Lines.
    pub items: Vec<OrderItem>,
}

/// One line of a stored order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, sqlx::FromRow)]
pub struct OrderItem {
    /// Product.
    pub product_id: Uuid,
    /// Units.
    pub quantity: i32,
    /// Price per unit, from the catalog at reservation time.
    pub unit_price_cents: i64,
}

/// Total of the lines, saturating rather than wrapping on absurd prices.
pub fn total_cents(items: &[OrderItem]) -> i64 {
    items.iter().fold(0i64, |acc, i| {
        acc.saturating_add(i.unit_price_cents.saturating_mul(i64::from(i.quantity)))
    })
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
            user_id: Uuid::nil(),
            items: items
                .iter()
                .map(|(p, q)| ItemRequest {
                    product_id: *p,
                    quantity: *q,
                })
                .collect(),
        }
    }

    #[test]
    fn empty_negative_zero_and_duplicate_lines_are_all_reported() {
        assert!(NewOrder::parse(req(&[])).is_err());
        let p = Uuid::new_v4();
        let err = NewOrder::parse(req(&[(p, 0), (Uuid::new_v4(), -2), (p, 1)]))
            .err()
            .unwrap_or_else(|| panic!());
        assert_eq!(err.status, 422);
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
    fn total_multiplies_and_sums() {
        let item = |q, p| OrderItem {
            product_id: Uuid::nil(),
            quantity: q,
            unit_price_cents: p,
        };
        assert_eq!(total_cents(&[item(2, 150), item(1, 99)]), 399);
        assert_eq!(total_cents(&[item(2, i64::MAX)]), i64::MAX);
    }

    #[test]
    fn work_depends_on_rounds_and_input() {
        let items = [OrderItem {
            product_id: Uuid::from_u128(7),
            quantity: 1,
            unit_price_cents: 1,
        }];
        let id = Uuid::from_u128(1);
        assert_eq!(fulfilment_work(id, &items, 10), fulfilment_work(id, &items, 10));
        assert_ne!(fulfilment_work(id, &items, 10), fulfilment_work(id, &items, 11));
    }
}
