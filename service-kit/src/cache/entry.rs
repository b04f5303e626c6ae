//! How entries are stored in Redis, and the scripts that keep a stale value from
//! overwriting a newer one and announce every change to the processes' local layers.
//!
//! Every entry carries the version of the row it came from (a counter the owning
//! service bumps in the same statement as each change):
//!
//! - `d:{version}:{json}`: the value at that version;
//! - `t:{version}`: a write committed `version`; anything older must not come back;
//! - `g:`: the row was deleted; nothing may be cached under the key until it expires.
//!
//! Why versions rather than a plain `DEL`: a read that misses, reads the row, and is
//! then overtaken by a write and its invalidation would put the old row back for a
//! whole TTL. With versions, its put is refused because the marker left by the write
//! is newer. Markers live as long as values (the TTL), which outlasts any read still
//! in flight, and the first read after a write replaces its marker with the new value.

/// The rule both scripts share, so that a put and an invalidation can never disagree on
/// what is newer: return 0 when the key holds a deletion, a value at `ARGV[1]` or newer,
/// or a marker newer than `ARGV[1]`.
macro_rules! refuse_if_not_newer {
    () => {
        r"
local cur = redis.call('GET', KEYS[1])
if cur then
  local kind, v = string.match(cur, '^(%a):(%d*)')
  local mine = tonumber(ARGV[1])
  if kind == 'g' then return 0 end
  v = tonumber(v)
  if kind == 'd' and v and v >= mine then return 0 end
  if kind == 't' and v and v > mine then return 0 end
end
"
    };
}

/// Puts a value unless the key holds the same or a newer version, or a deletion.
/// KEYS[1] = key; ARGV = version, entry, ttl seconds. Returns 1 when stored.
pub(crate) const PUT_IF_NEWER: &str = concat!(
    refuse_if_not_newer!(),
    r"redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"
);

/// Announces the write on the invalidation channel, and marks the key invalidated at
/// a version unless it already holds something as new or a deletion. KEYS[1] = key;
/// ARGV = version, ttl seconds, channel, message. Returns 1 when marked.
///
/// The announcement goes out whether or not the marker is written (evictions are
/// conditional on the version anyway), and in the same script: no subscriber's next
/// read can reach Redis between the two.
pub(crate) const INVALIDATE: &str = concat!(
    "redis.call('PUBLISH', ARGV[3], ARGV[4])\n",
    refuse_if_not_newer!(),
    r"redis.call('SET', KEYS[1], 't:' .. ARGV[1], 'EX', ARGV[2])
return 1
"
);

/// The deletion marker.
pub(crate) const GONE: &str = "g:";

/// Announces the deletion and leaves the deletion marker. KEYS[1] = key; ARGV = ttl
/// seconds, channel, message.
pub(crate) const MARK_GONE: &str = r"redis.call('PUBLISH', ARGV[2], ARGV[3])
redis.call('SET', KEYS[1], 'g:', 'EX', ARGV[1])
return 1
";

/// A stored entry as read back.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Entry<'a> {
    /// A value and its version.
    Value {
        /// The row's version.
        version: i64,
        /// The value as JSON.
        json: &'a str,
    },
    /// Invalidated by a write, or deleted: a miss that must not be answered from here.
    Marker,
    /// Not written by this module (an older format): a miss, and overwritten by a put.
    Unknown,
}

/// The stored form of a value.
pub(crate) fn encode(version: i64, json: &str) -> String {
    format!("d:{version}:{json}")
}

/// Reads a stored entry.
pub(crate) fn decode(raw: &str) -> Entry<'_> {
    if raw == GONE || raw.strip_prefix("t:").is_some_and(|v| v.parse::<i64>().is_ok()) {
        return Entry::Marker;
    }
    let Some((version, json)) = raw.strip_prefix("d:").and_then(|rest| rest.split_once(':')) else {
        return Entry::Unknown;
    };
    match version.parse() {
        Ok(version) => Entry::Value { version, json },
        Err(_) => Entry::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_with_their_version() {
        let raw = encode(42, r#"{"a":"x:y"}"#);
        assert_eq!(
            decode(&raw),
            Entry::Value {
                version: 42,
                json: r#"{"a":"x:y"}"#
            }
        );
    }

    #[test]
    fn markers_and_foreign_entries_are_misses() {
        assert_eq!(decode("t:7"), Entry::Marker);
        assert_eq!(decode(GONE), Entry::Marker);
        assert_eq!(decode(r#"{"id":1}"#), Entry::Unknown);
        assert_eq!(decode("d:x:{}"), Entry::Unknown);
        assert_eq!(decode("t:"), Entry::Unknown);
    }
}
