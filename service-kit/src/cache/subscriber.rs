//! The background task that keeps the local layer coherent: one pub/sub connection
//! per process, subscribed to the prefix's invalidation channel and to this
//! process's heartbeat channel. While it is subscribed and hears its heartbeat, the
//! local layer answers; when the connection closes, or the heartbeat stops coming
//! back (a paused Redis), it turns the layer off, clears it, and reconnects with
//! backoff; once subscribed again it clears the layer once more, since invalidations
//! may have been missed in between.
//!
//! Message formats on the invalidation channel: `{version}:{key}` after a write,
//! `g:{key}` after a deletion; on the heartbeat channel, the sender's `now_ms`.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt as _;
use redis::AsyncCommands as _;
use redis::aio::{ConnectionManager, PubSubStream};

use super::local::{HEARTBEAT, Local, SILENCE};

/// Longest wait to connect and subscribe.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Reconnection backoff bounds.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The channels of one cache: invalidations are shared by every process using the
/// prefix; the heartbeat channel is this process's own.
pub(crate) struct Channels {
    pub(crate) invalidations: String,
    pub(crate) heartbeat: String,
}

impl Channels {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            invalidations: invalidation_channel(prefix),
            heartbeat: format!("{prefix}cache:heartbeat:{}", uuid::Uuid::new_v4().simple()),
        }
    }
}

/// The channel on which every write under `prefix` is announced.
pub(crate) fn invalidation_channel(prefix: &str) -> String {
    format!("{prefix}cache:invalidations")
}

/// The message announcing that `key` changed at `version`, or was deleted (`None`).
pub(crate) fn message(key: &str, version: Option<i64>) -> String {
    match version {
        Some(v) => format!("{v}:{key}"),
        None => format!("g:{key}"),
    }
}

/// Reads a message back: the key and the version (`None`: deleted).
fn parse(payload: &str) -> Option<(&str, Option<i64>)> {
    let (head, key) = payload.split_once(':')?;
    match head {
        "g" => Some((key, None)),
        v => v.parse().ok().map(|v| (key, Some(v))),
    }
}

/// Starts the task; it ends once the cache (its `Local`) is dropped.
pub(crate) fn spawn(
    local: &Arc<Local>,
    client: redis::Client,
    conn: ConnectionManager,
    channels: Channels,
    service: &'static str,
) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no async runtime: the local cache stays off");
        return;
    };
    let task = Subscriber {
        local: Arc::downgrade(local),
        client,
        conn,
        channels,
        service,
    };
    runtime.spawn(task.run());
}

struct Subscriber {
    local: Weak<Local>,
    client: redis::Client,
    conn: ConnectionManager,
    channels: Channels,
    service: &'static str,
}

impl Subscriber {
    fn publish_state(&self, on: bool) {
        metrics::gauge!("cache_local_available", "service" => self.service).set(if on { 1.0 } else { 0.0 });
    }

    async fn run(self) {
        self.publish_state(false);
        let mut backoff = MIN_BACKOFF;
        let mut failures = 0u32;
        while self.local.strong_count() > 0 {
            match self.subscribe().await {
                Ok(stream) => {
                    let Some(local) = self.local.upgrade() else { return };
                    local.turn_on();
                    drop(local);
                    self.publish_state(true);
                    tracing::info!(channel = %self.channels.invalidations, "cache invalidations subscribed, local cache on");
                    backoff = MIN_BACKOFF;
                    failures = 0;
                    let why = self.serve(stream).await;
                    if let Some(local) = self.local.upgrade() {
                        local.turn_off();
                    }
                    self.publish_state(false);
                    if let Some(why) = why {
                        tracing::warn!(reason = why, "cache invalidation subscription lost, local cache off");
                    }
                }
                Err(e) => {
                    failures += 1;
                    // Once per outage at warn; the retries at debug.
                    if failures == 1 {
                        tracing::warn!(error.message = %e, "cannot subscribe to cache invalidations, local cache off");
                    } else {
                        tracing::debug!(error.message = %e, failures, "cannot subscribe to cache invalidations");
                    }
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    async fn subscribe(&self) -> Result<PubSubStream, String> {
        let connect = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub
                .subscribe(&[&self.channels.invalidations, &self.channels.heartbeat])
                .await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok(pubsub)) => Ok(pubsub.into_on_message()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {CONNECT_TIMEOUT:?}")),
        }
    }

    /// Applies messages until the connection is lost (returns why) or the cache is
    /// dropped (returns `None`).
    async fn serve(&self, mut stream: PubSubStream) -> Option<&'static str> {
        let mut tick = tokio::time::interval(HEARTBEAT);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                msg = stream.next() => {
                    let Some(msg) = msg else { return Some("connection closed") };
                    let local = self.local.upgrade()?;
                    let Ok(payload) = std::str::from_utf8(msg.get_payload_bytes()) else { continue };
                    if msg.get_channel_name() == self.channels.heartbeat {
                        if let Ok(sent) = payload.parse() {
                            local.heard(sent);
                        }
                    } else if let Some((key, version)) = parse(payload) {
                        local.evict(key, version);
                    }
                }
                _ = tick.tick() => {
                    let local = self.local.upgrade()?;
                    if local.silence_ms() >= SILENCE.as_millis() as u64 {
                        return Some("no heartbeat back from redis");
                    }
                    self.send_heartbeat(local.now_ms());
                }
            }
        }
    }

    /// Through the command connection, in its own task so that a stalled Redis does
    /// not hold up the messages; a lost heartbeat only turns the layer off.
    fn send_heartbeat(&self, now_ms: u64) {
        let mut conn = self.conn.clone();
        let channel = self.channels.heartbeat.clone();
        tokio::spawn(async move {
            let publish = conn.publish::<_, _, i64>(&channel, now_ms);
            let _ = tokio::time::timeout(HEARTBEAT * 2, publish).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        assert_eq!(parse(&message("a:b", Some(7))), Some(("a:b", Some(7))));
        assert_eq!(parse(&message("a:b", None)), Some(("a:b", None)));
        assert_eq!(parse("x:k"), None);
        assert_eq!(parse("k"), None);
    }
}
