//! Cache-aside for profiles in Redis.
//!
//! Entries live `USER_CACHE_TTL`; "no such user" lives `USER_CACHE_ABSENT_TTL`, so probing
//! unknown ids does not hit Postgres every time. Writes delete the entry. Redis is an
//! optimisation, never a dependency: if it is slow or down, every method reports a bypass
//! and the caller goes to Postgres. A call waits at most `USER_CACHE_TIMEOUT`, connection
//! included, so a silent Redis costs a read that much and not the pool's own deadlines. Metric: `profile_cache_lookups_total{result}` with
//! `result` = `hit`, `miss` or `bypass`.

use std::time::Duration;

use platform_redis::{Pool, redis};

use crate::config::CacheSettings;
use crate::service::Profile;

/// What the cache knows of one id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cached {
    Hit(Profile),
    /// Known not to exist (recently).
    Absent,
    Miss,
}

/// Stored for ids known not to exist; never valid JSON of a profile.
const ABSENT: &str = "-";

#[derive(Clone)]
pub struct ProfileCache {
    pool: Pool,
    prefix: String,
    ttl: Duration,
    absent_ttl: Duration,
    timeout: Duration,
}

impl ProfileCache {
    pub fn new(pool: Pool, key_prefix: &str, settings: &CacheSettings) -> Self {
        Self {
            pool,
            prefix: key_prefix.to_owned(),
            ttl: settings.ttl,
            absent_ttl: settings.absent_ttl,
            timeout: settings.timeout,
        }
    }

    /// One lookup per id, in order; `None` when Redis could not be asked (bypass).
    pub async fn get_many(&self, ids: &[String]) -> Option<Vec<Cached>> {
        if ids.is_empty() {
            return Some(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| self.key(id)).collect();
        let values: Vec<Option<String>> = match self.run(redis::cmd("MGET").arg(&keys)).await {
            Some(values) => values,
            None => {
                metrics::counter!("profile_cache_lookups_total", "result" => "bypass")
                    .increment(ids.len() as u64);
                return None;
            }
        };
        Some(
            values
                .into_iter()
                .map(|value| {
                    let cached = match value.as_deref() {
                        None => Cached::Miss,
                        Some(ABSENT) => Cached::Absent,
                        // An entry that no longer parses (an old format) is a miss, not an error.
                        Some(json) => serde_json::from_str(json).map_or(Cached::Miss, Cached::Hit),
                    };
                    let result = if cached == Cached::Miss {
                        "miss"
                    } else {
                        "hit"
                    };
                    metrics::counter!("profile_cache_lookups_total", "result" => result)
                        .increment(1);
                    cached
                })
                .collect(),
        )
    }

    pub async fn get(&self, id: &str) -> Option<Cached> {
        self.get_many(std::slice::from_ref(&id.to_owned()))
            .await?
            .pop()
    }

    pub async fn put(&self, profile: &Profile) {
        let Ok(json) = serde_json::to_string(profile) else {
            return;
        };
        self.set(&profile.id, &json, self.ttl).await;
    }

    pub async fn put_absent(&self, id: &str) {
        self.set(id, ABSENT, self.absent_ttl).await;
    }

    /// Drops the entry after a write. If Redis is down the entry may outlive the write by at
    /// most its TTL; readers bypass a dead Redis anyway.
    pub async fn invalidate(&self, id: &str) {
        if self
            .run::<()>(redis::cmd("DEL").arg(self.key(id)))
            .await
            .is_none()
        {
            metrics::counter!("profile_cache_invalidation_failures_total").increment(1);
        }
    }

    async fn set(&self, id: &str, value: &str, ttl: Duration) {
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let _: Option<()> = self
            .run(
                redis::cmd("SET")
                    .arg(self.key(id))
                    .arg(value)
                    .arg("PX")
                    .arg(millis),
            )
            .await;
    }

    /// Runs one command within the cache's deadline; any failure (no connection, an error,
    /// the deadline) is logged and becomes `None`.
    async fn run<T: redis::FromRedisValue>(&self, command: &mut redis::Cmd) -> Option<T> {
        let call = async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            command
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(error)) => {
                tracing::warn!(%error, "profile cache call failed; using Postgres");
                None
            }
            Err(_) => {
                tracing::warn!(timeout = ?self.timeout, "profile cache call timed out; using Postgres");
                None
            }
        }
    }

    fn key(&self, id: &str) -> String {
        format!("{}profile:{id}", self.prefix)
    }
}
