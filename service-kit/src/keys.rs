//! The one scheme of cache keys: `{resource}:v{KEY_VERSION}:{id}`, under the Redis
//! prefix the cache adds. The version segment changes whenever the key format or the
//! format of a cached entry changes, so that a new release never reads an entry an
//! older one wrote (old entries simply expire).

use std::fmt::Display;

/// The version segment of every cache key. 3: one scheme for users and products
/// (before: `user:v2:{id}` and `catalog:v2:item:{id}`).
pub const KEY_VERSION: u32 = 3;

/// The cache key of one `resource` (`user`, `product`) by id.
pub fn cache_key(resource: &str, id: impl Display) -> String {
    format!("{resource}:v{KEY_VERSION}:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_resource_version_and_id() {
        assert_eq!(cache_key("user", 42), "user:v3:42");
        assert_eq!(cache_key("product", "a-b"), "product:v3:a-b");
    }
}
