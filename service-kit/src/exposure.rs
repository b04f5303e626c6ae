//! The native setup's well-known credentials stay on loopback. `make deps` gives
//! PostgreSQL the role `postgres` with password `postgres` and Redis no password at all,
//! which is fine while everything listens on 127.0.0.1. A service that listens on any
//! other address (HOST=0.0.0.0 in compose and Kubernetes) must carry real credentials:
//! [`check`] refuses to start it with the default PostgreSQL password or a Redis URL
//! without one. Pure, so the shop services call it before connecting to anything.

use std::net::IpAddr;

/// The password `make deps` gives the local `postgres` role.
const DEFAULT_POSTGRES_PASSWORD: &str = "postgres";

/// Refuses `database_url` with the default password, or a TCP `redis_url` without a
/// password, when `host` (the listen address) is not a loopback one.
pub fn check(host: &str, database_url: &str, redis_url: &str) -> anyhow::Result<()> {
    if is_loopback(host) {
        return Ok(());
    }
    let mut problems = Vec::new();
    if password(database_url).as_deref() == Some(DEFAULT_POSTGRES_PASSWORD)
        || query_password(database_url) == Some(DEFAULT_POSTGRES_PASSWORD)
    {
        problems.push("DATABASE_URL uses the well-known password `postgres`");
    }
    if is_tcp_redis(redis_url) && password(redis_url).is_none_or(|p| p.is_empty()) {
        problems.push("REDIS_URL has no password");
    }
    if problems.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "refusing to listen on {host} with the local setup's credentials: {}; give the service \
         its own PostgreSQL role and Redis user (`make compose-env`, `make k8s-secrets`) or \
         listen on 127.0.0.1",
        problems.join(", ")
    )
}

/// `127.0.0.0/8`, `::1` (bracketed or not) and `localhost`.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The password of `scheme://user:password@host...`, if the URL has one (percent-encoding
/// left as it is: the default password has none).
fn password(url: &str) -> Option<String> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    userinfo.split_once(':').map(|(_, p)| p.to_owned())
}

/// A `password=` query parameter, which sqlx also reads.
fn query_password(url: &str) -> Option<&str> {
    let query = &url[url.find('?')? + 1..];
    query.split('&').find_map(|kv| kv.strip_prefix("password="))
}

/// Redis over the network; a Unix socket is reachable on this machine only.
fn is_tcp_redis(url: &str) -> bool {
    url.starts_with("redis://") || url.starts_with("rediss://")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: (&str, &str) = (
        "postgres://postgres:postgres@127.0.0.1:5432/users",
        "redis://127.0.0.1:6379",
    );

    #[test]
    fn loopback_listeners_may_use_the_local_defaults() {
        for host in ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"] {
            assert!(check(host, DEFAULTS.0, DEFAULTS.1).is_ok(), "{host}");
        }
    }

    #[test]
    fn other_listeners_are_refused_the_defaults_naming_each() {
        // Act
        let e = check("0.0.0.0", DEFAULTS.0, DEFAULTS.1).unwrap_err().to_string();
        // Assert
        assert!(e.starts_with("refusing to listen on 0.0.0.0"), "{e}");
        assert!(
            e.contains("DATABASE_URL uses the well-known password `postgres`"),
            "{e}"
        );
        assert!(e.contains("REDIS_URL has no password"), "{e}");
        for host in ["::", "10.0.0.5", "user-service"] {
            assert!(check(host, DEFAULTS.0, DEFAULTS.1).is_err(), "{host}");
        }
    }

    #[test]
    fn each_default_is_refused_on_its_own() {
        let db = "postgres://users:9f3c@postgres:5432/users";
        let redis = "redis://users:41ab@redis:6379";
        assert!(check("0.0.0.0", db, redis).is_ok());
        let e = check("0.0.0.0", DEFAULTS.0, redis).unwrap_err().to_string();
        assert!(e.contains("DATABASE_URL") && !e.contains("REDIS_URL"), "{e}");
        let e = check("0.0.0.0", db, "redis://redis:6379").unwrap_err().to_string();
        assert!(e.contains("REDIS_URL") && !e.contains("DATABASE_URL"), "{e}");
        // A user without a password, and the password as a query parameter.
        assert!(check("0.0.0.0", db, "redis://users:@redis:6379").is_err());
        assert!(check("0.0.0.0", db, "redis://users@redis:6379").is_err());
        assert!(check("0.0.0.0", "postgres://postgres@db/users?password=postgres", redis).is_err());
        // A password alone is one; a Unix socket is local.
        assert!(check("0.0.0.0", db, "redis://:41ab@redis:6379").is_ok());
        assert!(check("0.0.0.0", db, "redis+unix:///run/redis.sock").is_ok());
    }

    #[test]
    fn the_password_is_read_from_the_authority_only() {
        assert_eq!(password("postgres://u:p@h:5432/db").as_deref(), Some("p"));
        assert_eq!(password("postgres://u@h/db").as_deref(), None);
        assert_eq!(password("redis://h:6379/0?x=a:b@c").as_deref(), None);
        assert_eq!(password("redis://u:p@q@h:6379").as_deref(), Some("p@q"));
    }
}
