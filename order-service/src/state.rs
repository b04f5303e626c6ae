//! What the handlers, the saga and the reconciler share: the application state and the
//! service's metric label. It sits below `startup` (which builds it) and the modules that use
//! it, so that none of them imports `startup` back.

use std::time::Duration;

use service_kit::auth::AuthKey;
use sqlx::PgPool;

use crate::clients::Downstream;
use crate::queue::Queue;

/// The `service` label on the API's metrics.
pub const SERVICE: &str = "order-service";

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The service's own database.
    pub db: PgPool,
    /// The user and catalog services.
    pub downstream: Downstream,
    /// The work queue.
    pub queue: Queue,
    /// Time one order may spend checking its user and reserving.
    pub saga_timeout: Duration,
    /// Verifies callers' tokens; `app` hands it to the `Caller` extractor.
    pub auth: AuthKey,
}
