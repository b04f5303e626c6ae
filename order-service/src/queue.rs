//! The order queue on Redis, as a reliable queue: a worker atomically moves an id from
//! `orders:queue` to `orders:processing` and removes it only after the order is marked
//! done. Ids left in `orders:processing` by a dead worker go back on the queue once
//! they have been there longer than the visibility timeout.
//!
//! A set, `orders:queued`, holds every id on either list, so that the reconciler can
//! ask in one round trip which pending orders the queue has lost (a Redis restarted
//! without persistence, a flush) without scanning the lists; it is updated in the same
//! MULTI as the list on push and on acknowledgement.
//!
//! Taking uses LMOVE and a short poll rather than BLMOVE: a blocking command would
//! hold the shared multiplexed connection, and the poll costs at most its interval
//! of latency when the queue is empty.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;

/// Requeues ids whose take is older than the timeout. An id without a take time
/// (its worker died between the move and recording the time) gets one now.
const REQUEUE_STALE: &str = r"
local now = tonumber(ARGV[1])
local timeout = tonumber(ARGV[2])
local moved = 0
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  redis.call('HSETNX', KEYS[3], id, now)
  local since = tonumber(redis.call('HGET', KEYS[3], id))
  if now - since >= timeout then
    redis.call('LREM', KEYS[1], 1, id)
    redis.call('RPUSH', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
    moved = moved + 1
  end
end
return moved
";

/// The queue's Redis keys and connection.
#[derive(Clone)]
pub struct Queue {
    conn: ConnectionManager,
    queue: String,
    processing: String,
    taken_at: String,
    queued: String,
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Queue {
    /// Keys are `{prefix}orders:queue`, `{prefix}orders:processing`,
    /// `{prefix}orders:taken_at` (take times by id) and `{prefix}orders:queued` (the set
    /// of ids on either list). None has a TTL: they are the queue itself.
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            queue: format!("{prefix}orders:queue"),
            processing: format!("{prefix}orders:processing"),
            taken_at: format!("{prefix}orders:taken_at"),
            queued: format!("{prefix}orders:queued"),
        }
    }

    /// Adds an id; workers take from the other end, so the queue is first in, first out.
    pub async fn push(&self, id: &str) -> redis::RedisResult<()> {
        redis::pipe()
            .atomic()
            .sadd(&self.queued, id)
            .ignore()
            .lpush(&self.queue, id)
            .ignore()
            .query_async(&mut self.conn.clone())
            .await
    }

    /// Of `ids`, those on neither list (by the `queued` set).
    pub async fn missing(&self, ids: &[String]) -> redis::RedisResult<Vec<String>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let present: Vec<bool> = redis::cmd("SMISMEMBER")
            .arg(&self.queued)
            .arg(ids)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(ids
            .iter()
            .zip(present)
            .filter(|(_, on)| !on)
            .map(|(id, _)| id.clone())
            .collect())
    }

    /// Moves the oldest id to the processing list and records when; `None` when empty.
    pub async fn take(&self) -> redis::RedisResult<Option<String>> {
        let mut conn = self.conn.clone();
        let id: Option<String> = redis::cmd("LMOVE")
            .arg(&self.queue)
            .arg(&self.processing)
            .arg("RIGHT")
            .arg("LEFT")
            .query_async(&mut conn)
            .await?;
        if let Some(id) = &id {
            conn.hset::<_, _, _, ()>(&self.taken_at, id, now_secs()).await?;
        }
        Ok(id)
    }

    /// Removes a finished id from the processing list.
    pub async fn ack(&self, id: &str) -> redis::RedisResult<()> {
        redis::pipe()
            .atomic()
            .lrem(&self.processing, 1, id)
            .ignore()
            .hdel(&self.taken_at, id)
            .ignore()
            .srem(&self.queued, id)
            .ignore()
            .query_async(&mut self.conn.clone())
            .await
    }

    /// Puts back ids taken longer than `timeout` ago; returns how many.
    pub async fn requeue_stale(&self, timeout: Duration) -> redis::RedisResult<u64> {
        redis::Script::new(REQUEUE_STALE)
            .key(&self.processing)
            .key(&self.queue)
            .key(&self.taken_at)
            .arg(now_secs())
            .arg(timeout.as_secs_f64())
            .invoke_async(&mut self.conn.clone())
            .await
    }

    /// Ids waiting, and ids being processed.
    pub async fn depth(&self) -> redis::RedisResult<(u64, u64)> {
        let mut conn = self.conn.clone();
        let waiting: u64 = conn.llen(&self.queue).await?;
        let processing: u64 = conn.llen(&self.processing).await?;
        Ok((waiting, processing))
    }
}
