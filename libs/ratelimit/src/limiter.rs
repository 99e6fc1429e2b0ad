use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use platform_redis::redis::Script;
use platform_redis::{Pool, PoolError, redis};
use sha2::{Digest as _, Sha256};

use crate::local::LocalLimiter;
use crate::{Decision, Quota};

/// Set to 1 while this process limits on its own because Redis does not answer, else 0 (from
/// [`RateLimiterBuilder::build`] on). The three metrics go to the process's `metrics`
/// recorder, e.g. the ops listener's Prometheus exporter:
///
/// ```text
/// ratelimit_degraded 1
/// ratelimit_redis_errors_total 3
/// ratelimit_local_decisions_total 12840
/// ```
pub const DEGRADED_GAUGE: &str = "ratelimit_degraded";
/// Redis failures (errors and timeouts) met by the limiter.
pub const REDIS_ERRORS_COUNTER: &str = "ratelimit_redis_errors_total";
/// Decisions made by the in-process fallback instead of Redis.
pub const LOCAL_DECISIONS_COUNTER: &str = "ratelimit_local_decisions_total";

/// Default number of fallback buckets per class; see [`RateLimiterBuilder::fallback_buckets`].
///
/// ```
/// assert_eq!(platform_ratelimit::DEFAULT_FALLBACK_BUCKETS, 65_536);
/// ```
pub const DEFAULT_FALLBACK_BUCKETS: u32 = 65_536;
/// Default time between two attempts at Redis while degraded; see
/// [`RateLimiterBuilder::probe_interval`].
///
/// ```
/// # use std::time::Duration;
/// assert_eq!(platform_ratelimit::DEFAULT_PROBE_INTERVAL, Duration::from_secs(1));
/// ```
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// How long a request waits for its decision from Redis by default (see
/// [`RateLimiterBuilder::deadline`]).
///
/// ```
/// # use std::time::Duration;
/// assert_eq!(platform_ratelimit::DEFAULT_DEADLINE, Duration::from_millis(100));
/// ```
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(100);

const SCRIPT: &str = include_str!("gcra.lua");

/// Per-client rate limits for named classes, shared through Redis by every replica that uses
/// the same Redis and key prefix. Cheap to clone (one shared state).
///
/// ```no_run
/// use platform_ratelimit::{Quota, RateLimiter};
/// use platform_redis::{connect, RedisSettings};
/// # async fn run(settings: RedisSettings) -> Result<(), Box<dyn std::error::Error>> {
/// let limiter = RateLimiter::builder(connect(&settings)?)
///     .key_prefix(&settings.key_prefix)
///     .class("auth", "10/1m".parse()?)
///     .class("reads", Quota::per_minute(600))
///     .build()?;
/// let decision = limiter.check("reads", "user:42").await?;
/// if !decision.allowed {
///     // answer 429 with decision.headers()
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    script: Script,
    classes: HashMap<String, Class>,
    health: Health,
    deadline: Duration,
}

struct Class {
    name: Arc<str>,
    quota: Quota,
    interval_us: u64,
    /// `{key_prefix}ratelimit:{class}:`
    key_prefix: String,
    local: LocalLimiter,
}

/// Collects the classes and settings of a [`RateLimiter`]; from [`RateLimiter::builder`].
pub struct RateLimiterBuilder {
    pool: Pool,
    key_prefix: String,
    classes: Vec<(String, Quota)>,
    fallback_buckets: u32,
    probe_interval: Duration,
    deadline: Duration,
}

/// A [`RateLimiter`] that cannot be built as configured.
///
/// ```
/// # use platform_ratelimit::BuildError;
/// let error = BuildError::ClassName("a:b".into());
/// assert!(error.to_string().contains("\"a:b\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// Class names are 1 to 64 of `A-Z a-z 0-9 _ - .` so they are safe in keys and headers.
    #[error("rate limit class {0:?}: a name is 1 to 64 of A-Z, a-z, 0-9, '_', '-', '.'")]
    ClassName(String),
    /// The same class twice.
    #[error("rate limit class {0:?} is configured twice")]
    DuplicateClass(String),
    /// A quota the limiter cannot enforce.
    #[error("rate limit class {class:?}: {reason}")]
    Quota {
        /// The class.
        class: String,
        /// What is wrong with its quota.
        reason: &'static str,
    },
    /// No class at all.
    #[error("a rate limiter needs at least one class")]
    NoClass,
}

/// [`RateLimiter::check`] was asked about a class it was not built with: a programming
/// error in the caller, which may answer 500.
///
/// ```
/// let error = platform_ratelimit::UnknownClass("search".into());
/// assert_eq!(error.to_string(), "no rate limit class \"search\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no rate limit class {0:?}")]
pub struct UnknownClass(pub String);

impl RateLimiter {
    /// Starts a limiter whose shared state lives in the Redis behind `pool` (from
    /// [`platform_redis::connect`], whose deadlines bound every call).
    ///
    /// ```no_run
    /// # use platform_ratelimit::{Quota, RateLimiter};
    /// # fn f(pool: platform_redis::Pool) -> Result<(), platform_ratelimit::BuildError> {
    /// let limiter = RateLimiter::builder(pool)
    ///     .class("writes", Quota::per_minute(120))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn builder(pool: Pool) -> RateLimiterBuilder {
        RateLimiterBuilder {
            pool,
            key_prefix: String::new(),
            classes: Vec::new(),
            fallback_buckets: DEFAULT_FALLBACK_BUCKETS,
            probe_interval: DEFAULT_PROBE_INTERVAL,
            deadline: DEFAULT_DEADLINE,
        }
    }

    /// Counts one request of `client` in `class` and says whether it may go ahead.
    ///
    /// `client` is any string naming the caller (`user:<id>`, `ip:<address>`); only a hash of
    /// it is stored. Never fails because of Redis: when Redis errs or times out, the decision
    /// comes from this replica's fallback ([`Decision::local`]). Fails only for a class the
    /// limiter was not built with.
    ///
    /// ```no_run
    /// # async fn f(limiter: platform_ratelimit::RateLimiter) -> Result<(), platform_ratelimit::UnknownClass> {
    /// let decision = limiter.check("auth", "ip:203.0.113.7").await?;
    /// println!("{} left, allowed: {}", decision.remaining, decision.allowed);
    /// # Ok(()) }
    /// ```
    pub async fn check(&self, class: &str, client: &str) -> Result<Decision, UnknownClass> {
        let inner = &*self.inner;
        let class = inner
            .classes
            .get(class)
            .ok_or_else(|| UnknownClass(class.to_owned()))?;
        let digest: [u8; 32] = Sha256::digest(client.as_bytes()).into();
        if inner.health.should_try_redis() {
            // The pool's own deadlines (connect, recycle, command) can add up to seconds
            // against a silent Redis; a limiter must not cost a request that much.
            let in_redis =
                tokio::time::timeout(inner.deadline, self.check_in_redis(class, &digest));
            match in_redis
                .await
                .unwrap_or(Err(RedisFailure::Deadline(inner.deadline)))
            {
                Ok(decision) => {
                    inner.health.succeeded(&inner.classes);
                    return Ok(decision);
                }
                Err(error) => inner.health.failed(&error),
            }
        }
        metrics::counter!(LOCAL_DECISIONS_COUNTER).increment(1);
        Ok(class.local.check(&class.name, class.quota, &digest))
    }

    /// Whether the limiter currently decides on this replica alone because Redis failed; it
    /// tries Redis again every probe interval. The gauge [`DEGRADED_GAUGE`] says the same.
    ///
    /// ```no_run
    /// # fn f(limiter: platform_ratelimit::RateLimiter) {
    /// if limiter.is_degraded() {
    ///     // limits hold per replica only
    /// }
    /// # }
    /// ```
    pub fn is_degraded(&self) -> bool {
        self.inner.health.degraded.load(Ordering::Relaxed)
    }

    /// The quota of `class`, if the limiter has that class.
    ///
    /// ```no_run
    /// # fn f(limiter: platform_ratelimit::RateLimiter) {
    /// let reads = limiter.quota("reads");
    /// # }
    /// ```
    pub fn quota(&self, class: &str) -> Option<Quota> {
        self.inner.classes.get(class).map(|c| c.quota)
    }

    /// The Redis key holding `client`'s state in `class`:
    /// `{key_prefix}ratelimit:{class}:{32 hex digits}`, the hex digits being the first 16
    /// bytes of the SHA-256 of `client`. For tests and operators (`redis-cli PTTL KEY`).
    ///
    /// ```no_run
    /// # fn f(limiter: platform_ratelimit::RateLimiter) {
    /// // built without a key prefix
    /// let key = limiter.key("reads", "user:42").unwrap();
    /// assert!(key.starts_with("ratelimit:reads:") && key.len() == "ratelimit:reads:".len() + 32);
    /// # }
    /// ```
    pub fn key(&self, class: &str, client: &str) -> Result<String, UnknownClass> {
        let class = self
            .inner
            .classes
            .get(class)
            .ok_or_else(|| UnknownClass(class.to_owned()))?;
        Ok(redis_key(class, &Sha256::digest(client.as_bytes()).into()))
    }

    async fn check_in_redis(
        &self,
        class: &Class,
        digest: &[u8; 32],
    ) -> Result<Decision, RedisFailure> {
        let mut conn = self.inner.pool.get().await?;
        let (allowed, remaining, retry_us, reset_us): (i64, i64, i64, i64) = self
            .inner
            .script
            .key(redis_key(class, digest))
            .arg(class.interval_us)
            .arg(class.quota.requests)
            .invoke_async(&mut *conn)
            .await?;
        let micros = |us: i64| Duration::from_micros(u64::try_from(us).unwrap_or(0));
        let allowed = allowed == 1;
        Ok(Decision {
            class: class.name.clone(),
            quota: class.quota,
            allowed,
            remaining: u32::try_from(remaining)
                .unwrap_or(0)
                .min(class.quota.requests),
            reset_after: micros(reset_us),
            retry_after: (!allowed).then(|| micros(retry_us)),
            local: false,
        })
    }
}

impl RateLimiterBuilder {
    /// The namespace in front of every key, normally `RedisSettings::key_prefix`
    /// (`REDIS_KEY_PREFIX`). Replicas that must share limits use the same prefix.
    ///
    /// ```no_run
    /// # fn f(pool: platform_redis::Pool) {
    /// let builder = platform_ratelimit::RateLimiter::builder(pool).key_prefix("staging:");
    /// # }
    /// ```
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Adds a class (also the policy name in the headers) and its quota. The caller decides
    /// the classes, e.g. `auth`, `reads`, `writes`, `uploads`.
    ///
    /// ```no_run
    /// # use platform_ratelimit::Quota;
    /// # fn f(pool: platform_redis::Pool) {
    /// let builder = platform_ratelimit::RateLimiter::builder(pool)
    ///     .class("uploads", Quota::new(20, std::time::Duration::from_secs(3600)));
    /// # }
    /// ```
    pub fn class(mut self, name: impl Into<String>, quota: Quota) -> Self {
        self.classes.push((name.into(), quota));
        self
    }

    /// How many buckets each class's in-process fallback hashes clients into (default
    /// 65,536, about 2.3 MiB per class when all are in use). This bounds the fallback's memory
    /// whatever the number of distinct clients; clients that share a bucket share its quota
    /// while Redis is down. Buckets full again are dropped every 10 s while in use.
    ///
    /// ```no_run
    /// # fn f(pool: platform_redis::Pool) {
    /// let builder = platform_ratelimit::RateLimiter::builder(pool).fallback_buckets(16_384);
    /// # }
    /// ```
    pub fn fallback_buckets(mut self, buckets: u32) -> Self {
        self.fallback_buckets = buckets.max(1);
        self
    }

    /// While degraded, how long to decide locally before letting one request try Redis again
    /// (default 1 s). Only that one request can wait for Redis's deadline meanwhile.
    ///
    /// ```no_run
    /// # fn f(pool: platform_redis::Pool) {
    /// let builder = platform_ratelimit::RateLimiter::builder(pool)
    ///     .probe_interval(std::time::Duration::from_secs(2));
    /// # }
    /// ```
    pub fn probe_interval(mut self, interval: Duration) -> Self {
        self.probe_interval = interval;
        self
    }

    /// The longest a request waits for its decision from Redis, connection included (default
    /// [`DEFAULT_DEADLINE`]); past it the replica decides alone and Redis counts as failed.
    ///
    /// ```no_run
    /// # fn f(pool: platform_redis::Pool) {
    /// let builder = platform_ratelimit::RateLimiter::builder(pool)
    ///     .deadline(std::time::Duration::from_millis(50));
    /// # }
    /// ```
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The limiter, or why the classes cannot be used.
    ///
    /// ```no_run
    /// # use platform_ratelimit::{BuildError, Quota, RateLimiter};
    /// # fn f(pool: platform_redis::Pool) {
    /// let refused = RateLimiter::builder(pool).class("a b", Quota::per_second(1)).build();
    /// assert!(matches!(refused, Err(BuildError::ClassName(_))));
    /// # }
    /// ```
    pub fn build(self) -> Result<RateLimiter, BuildError> {
        if self.classes.is_empty() {
            return Err(BuildError::NoClass);
        }
        let mut classes = HashMap::new();
        for (name, quota) in self.classes {
            let valid_name = (1..=64).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            if !valid_name {
                return Err(BuildError::ClassName(name));
            }
            if let Some(reason) = quota.invalid() {
                return Err(BuildError::Quota {
                    class: name,
                    reason,
                });
            }
            if classes.contains_key(&name) {
                return Err(BuildError::DuplicateClass(name));
            }
            let class = Class {
                name: name.as_str().into(),
                quota,
                interval_us: quota.emission_interval_us(),
                key_prefix: format!("{}ratelimit:{name}:", self.key_prefix),
                local: LocalLimiter::new(quota, self.fallback_buckets),
            };
            classes.insert(name, class);
        }
        metrics::gauge!(DEGRADED_GAUGE).set(0.0);
        Ok(RateLimiter {
            inner: Arc::new(Inner {
                pool: self.pool,
                script: Script::new(SCRIPT),
                classes,
                health: Health::new(self.probe_interval),
                deadline: self.deadline,
            }),
        })
    }
}

fn redis_key(class: &Class, digest: &[u8; 32]) -> String {
    let mut key = String::with_capacity(class.key_prefix.len() + 32);
    key.push_str(&class.key_prefix);
    for byte in &digest[..16] {
        let _ = write!(key, "{byte:02x}");
    }
    key
}

#[derive(Debug, thiserror::Error)]
enum RedisFailure {
    #[error("no Redis connection: {0}")]
    Pool(#[from] PoolError),
    #[error("the rate limit script failed: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("Redis gave no decision within {0:?}")]
    Deadline(Duration),
}

/// Healthy, or degraded since a failure: then every request is decided locally, except one
/// per probe interval that tries Redis again.
struct Health {
    degraded: AtomicBool,
    epoch: Instant,
    /// Milliseconds after `epoch` when a degraded limiter may try Redis again.
    probe_at: AtomicU64,
    probe_interval: Duration,
}

impl Health {
    fn new(probe_interval: Duration) -> Self {
        Self {
            degraded: AtomicBool::new(false),
            epoch: Instant::now(),
            probe_at: AtomicU64::new(0),
            probe_interval,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Healthy: yes. Degraded: yes for the first caller after the probe time, no otherwise.
    fn should_try_redis(&self) -> bool {
        if !self.degraded.load(Ordering::Relaxed) {
            return true;
        }
        let now = self.now_ms();
        let at = self.probe_at.load(Ordering::Relaxed);
        now >= at
            && self
                .probe_at
                .compare_exchange(
                    at,
                    now + self.probe_interval.as_millis() as u64,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
    }

    fn succeeded(&self, classes: &HashMap<String, Class>) {
        if self.degraded.swap(false, Ordering::Relaxed) {
            metrics::gauge!(DEGRADED_GAUGE).set(0.0);
            tracing::info!("rate limiting: Redis answers again; limits are shared again");
            for class in classes.values() {
                class.local.sweep_now_and_then();
            }
        }
    }

    fn failed(&self, error: &RedisFailure) {
        metrics::counter!(REDIS_ERRORS_COUNTER).increment(1);
        self.probe_at.store(
            self.now_ms() + self.probe_interval.as_millis() as u64,
            Ordering::Relaxed,
        );
        if self.degraded.swap(true, Ordering::Relaxed) {
            tracing::debug!(%error, "rate limiting: Redis still failing");
        } else {
            metrics::gauge!(DEGRADED_GAUGE).set(1.0);
            tracing::warn!(
                %error,
                "rate limiting: Redis failed; limiting per replica until it answers again"
            );
        }
    }
}
