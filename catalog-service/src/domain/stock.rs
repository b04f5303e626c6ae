//! Stock changes and reservations: a relative change for restocking, and what an
//! order reserves and releases, with their validation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service_kit::Invalid;
use uuid::Uuid;

use super::{MAX_QUANTITY, MAX_STOCK};

/// Body of `POST /products/{id}/stock`: a relative change, positive to restock,
/// negative to write off. Read as i64 so that anything a JSON number can hold within
/// i64 is a validation error (422) rather than a type error.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockChangeRequest {
    /// Units to add (negative to remove), non-zero, at most `MAX_STOCK` either way.
    pub delta: i64,
}

impl StockChangeRequest {
    /// The delta, when valid. Whether the stock can take it is the database's call.
    pub fn delta(&self) -> Result<i64, Invalid> {
        if self.delta != 0 && (-MAX_STOCK..=MAX_STOCK).contains(&self.delta) {
            Ok(self.delta)
        } else {
            Err(Invalid::new(format!(
                "delta must be non-zero and between -{MAX_STOCK} and {MAX_STOCK}"
            ))
            .with_error("delta", format!("got {}", self.delta)))
        }
    }
}

/// Body of `POST /products/{id}/reserve`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReserveRequest {
    /// The order that takes the stock; with the product, the idempotency key.
    pub order_id: Uuid,
    /// Units to take, 1 to `MAX_QUANTITY`.
    pub quantity: i64,
}

impl ReserveRequest {
    /// The quantity, when valid.
    pub fn quantity(&self) -> Result<i32, Invalid> {
        if (1..=MAX_QUANTITY).contains(&self.quantity) {
            Ok(self.quantity as i32)
        } else {
            Err(Invalid::new(format!("quantity must be between 1 and {MAX_QUANTITY}"))
                .with_error("quantity", format!("got {}", self.quantity)))
        }
    }
}

/// Body of `POST /products/{id}/release`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReleaseRequest {
    /// The order giving its stock back.
    pub order_id: Uuid,
}

/// What an order holds of a product.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Reservation {
    /// The order.
    pub order_id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// Units held (0 once released and for a release of nothing).
    pub quantity: i32,
    /// Price per unit when reserved: the price the order pays.
    pub unit_price_cents: i64,
    /// When it was reserved.
    pub reserved_at: DateTime<Utc>,
    /// When it was released, if it was.
    pub released_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_delta_is_non_zero_and_bounded() {
        let d = |delta| StockChangeRequest { delta }.delta();
        assert!(d(0).is_err());
        assert!(d(MAX_STOCK + 1).is_err());
        assert!(d(i64::MIN).is_err());
        assert_eq!(d(-MAX_STOCK).ok(), Some(-MAX_STOCK));
        assert_eq!(d(50).ok(), Some(50));
    }

    #[test]
    fn reserve_quantity_must_be_positive_and_bounded() {
        let req = |q| ReserveRequest {
            order_id: Uuid::nil(),
            quantity: q,
        };
        assert!(req(0).quantity().is_err());
        assert!(req(-2).quantity().is_err());
        assert!(req(MAX_QUANTITY + 1).quantity().is_err());
        assert_eq!(req(3).quantity().ok(), Some(3));
    }
}
