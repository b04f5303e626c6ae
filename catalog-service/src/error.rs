//! What the catalog's operations fail with, and the one place where that becomes a
//! problem+json response. Database and domain code return these; the mapping of
//! `sqlx` errors (constraint names included) to variants is [`From<sqlx::Error>`].

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use service_kit::conditional::ETag;
use service_kit::db_error::{DbFailure, classify};
use service_kit::{Invalid, Problem};
use uuid::Uuid;

/// The unique index on `products.sku`.
const SKU_KEY: &str = "products_sku_key";

/// `Result` of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an operation on products or stock failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 422: the request (or a value the database refused) is invalid, by field.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// 404: no such product.
    #[error("product {0} does not exist")]
    NotFound(Uuid),
    /// 409: another product has this sku.
    #[error("a product with this sku already exists")]
    SkuTaken,
    /// 412: an `If-Match` names another version than the current one.
    #[error(
        "product {id} has changed since it was read (stock is reserved concurrently): it is now at ETag {}",
        ETag(*.current)
    )]
    Stale {
        /// The product.
        id: Uuid,
        /// Its current version.
        current: i64,
    },
    /// 409: too little stock to reserve; blames `product_id`.
    #[error("insufficient stock for product {product_id}: {requested} requested, {available} available")]
    InsufficientStock {
        /// The product.
        product_id: Uuid,
        /// Units asked for.
        requested: i32,
        /// Units in stock.
        available: i32,
    },
    /// 409: the order gave this product back already; it cannot reserve it again.
    #[error("order {order_id} already released product {product_id}")]
    AlreadyReleased {
        /// The order.
        order_id: Uuid,
        /// The product.
        product_id: Uuid,
    },
    /// 409: a retried reservation with another quantity than the one held.
    #[error("order {order_id} already holds {held} of product {product_id}, not {requested}")]
    HeldOtherQuantity {
        /// The order.
        order_id: Uuid,
        /// The product.
        product_id: Uuid,
        /// Units held.
        held: i32,
        /// Units asked for now.
        requested: i32,
    },
    /// 409: a write-off of more than is in stock; blames `delta`.
    #[error("cannot remove {remove} units of product {id}: only {stock} in stock")]
    CannotRemove {
        /// The product.
        id: Uuid,
        /// Units to remove.
        remove: u64,
        /// Units in stock.
        stock: i32,
    },
    /// 503: the database cannot be reached or its pool is exhausted; retry later.
    #[error("the database is unavailable, retry later")]
    Unavailable(#[source] sqlx::Error),
    /// 500: any other database error; the cause is logged, never returned.
    #[error("database error")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match classify(&e) {
            DbFailure::Unavailable => Self::Unavailable(e),
            DbFailure::Unstorable(m) => Self::Invalid(Invalid::new(format!("a value cannot be stored: {m}"))),
            f if f.unique() == Some(SKU_KEY) => Self::SkuTaken,
            _ => Self::Database(e),
        }
    }
}

impl Error {
    /// The status of the response.
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::SkuTaken
            | Self::InsufficientStock { .. }
            | Self::AlreadyReleased { .. }
            | Self::HeldOtherQuantity { .. }
            | Self::CannotRemove { .. } => StatusCode::CONFLICT,
            Self::Stale { .. } => StatusCode::PRECONDITION_FAILED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let problem = match self {
            Self::Invalid(invalid) => Problem::from(invalid),
            Self::Unavailable(ref e) => {
                tracing::error!(error.message = %e, "database unavailable");
                Problem::unavailable(self.to_string())
            }
            Self::Database(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "database error");
                Problem::internal()
            }
            Self::InsufficientStock { product_id, .. } => {
                Problem::new(self.status_code(), self.to_string()).with_error("product_id", product_id.to_string())
            }
            Self::CannotRemove { stock, .. } => {
                Problem::new(self.status_code(), self.to_string()).with_error("delta", format!("at least -{stock}"))
            }
            ref other => Problem::new(other.status_code(), other.to_string()),
        };
        problem.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_status() {
        let (id, order_id) = (Uuid::nil(), Uuid::max());
        for (e, status) in [
            (Error::Invalid(Invalid::new("x")), 422),
            (Error::NotFound(id), 404),
            (Error::SkuTaken, 409),
            (Error::Stale { id, current: 1 }, 412),
            (
                Error::InsufficientStock {
                    product_id: id,
                    requested: 2,
                    available: 1,
                },
                409,
            ),
            (
                Error::AlreadyReleased {
                    order_id,
                    product_id: id,
                },
                409,
            ),
            (
                Error::HeldOtherQuantity {
                    order_id,
                    product_id: id,
                    held: 1,
                    requested: 2,
                },
                409,
            ),
            (
                Error::CannotRemove {
                    id,
                    remove: 5,
                    stock: 1,
                },
                409,
            ),
            (Error::from(sqlx::Error::PoolClosed), 503),
            (Error::from(sqlx::Error::RowNotFound), 500),
        ] {
            assert_eq!(e.status_code().as_u16(), status, "{e:?}");
            assert_eq!(e.into_response().status().as_u16(), status);
        }
    }

    #[test]
    fn details_are_what_clients_saw_before() {
        let id = Uuid::nil();
        assert_eq!(
            Error::Stale { id, current: 7 }.to_string(),
            format!(
                "product {id} has changed since it was read (stock is reserved concurrently): it is now at ETag \"7\""
            )
        );
        assert_eq!(
            Error::CannotRemove {
                id,
                remove: 5,
                stock: 1
            }
            .to_string(),
            format!("cannot remove 5 units of product {id}: only 1 in stock")
        );
    }
}
