//! The tokens the tests call the services with, all of the test key
//! (`service_kit::testing::AUTH_SECRET`) but the forged one.

use service_kit::auth::Role;
use service_kit::testing;
use uuid::Uuid;

/// The `Authorization` value of `user` as a customer.
pub(crate) fn customer(user: Uuid) -> String {
    testing::bearer(&user.to_string(), Role::Customer)
}

pub(crate) use service_kit::testing::{client_with, expired_bearer, forged_bearer};
