//! Per-client rate limits that hold across every replica of a service: GCRA with its state in
//! Redis, and a per-replica fallback when Redis is down.
//!
//! ## Why GCRA
//!
//! The generic cell rate algorithm is a token bucket kept as a single number per client: the
//! theoretical arrival time (TAT) of its next request. One `GET` and one `SET` in a Lua script
//! decide a request atomically in one round trip (EVALSHA; the script is loaded again when
//! Redis answers NOSCRIPT), with no refill bookkeeping and no window edges: a fixed window lets
//! a client send twice its quota around the boundary, GCRA never more than the burst. A quota
//! of `600/1m` means a burst of 600, then one request back every 100 ms. Remaining requests,
//! the time until the quota is full again and the retry-after all follow from the TAT. The
//! clock is Redis's `TIME`, so replicas with skewed clocks still agree.
//!
//! ## Keys
//!
//! One string key per (class, client): `{key_prefix}ratelimit:{class}:{hex}`, where `hex` is
//! the first 16 bytes of the SHA-256 of the client string in lowercase hex, so no client
//! string can shape a key (nor leave an address or user id in Redis). The prefix is
//! `RedisSettings::key_prefix` (`REDIS_KEY_PREFIX`); class names are limited to
//! `A-Z a-z 0-9 _ - .`. Each key expires (`PX`) when its quota is full again, so idle clients
//! cost nothing. The script uses only Redis 6.2 commands (`TIME`, `GET`, `SET ... PX`), and
//! its one key is declared, so it also runs on Redis Cluster.
//!
//! ## When Redis is down
//!
//! A Redis error or timeout (the deadlines of [`platform_redis::connect`]) never refuses the
//! request: it is decided by this replica's in-process limiter (the `governor` crate, same
//! quotas, clients hashed from the same SHA-256 into a bounded number of buckets, so a flood
//! of distinct clients cannot grow memory: a million distinct clients in one class took
//! 2.3 MiB with the default 65,536 buckets). Limits then hold per replica: N replicas let
//! through up to N times the quota. One warning is logged when the outage starts and one
//! info line when Redis answers again; [`RateLimiter::is_degraded`] and the gauge
//! [`DEGRADED_GAUGE`] tell the state. While degraded, one request per probe interval tries
//! Redis again, so the others do not wait for its deadline.
//!
//! ## Headers
//!
//! [`Decision::headers`] renders the fields of the IETF httpapi draft "RateLimit header fields
//! for HTTP",
//! [draft-ietf-httpapi-ratelimit-headers-11](https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/11/)
//! (May 2026; [`HEADERS_DRAFT`]): two Structured Field lists (RFC 9651) whose items are the
//! class name as an sf-string.
//!
//! - `RateLimit-Policy: "reads";q=600;w=60`: a quota of `q` requests in a window of `w` seconds;
//! - `RateLimit: "reads";r=599;t=1`: `r` requests available now and `t` seconds of "effective
//!   window" (§4.1.2): until the quota is full again when allowed, until the next request is
//!   allowed when refused (`r=0`), so `Retry-After` never points before its end (§6);
//! - `Retry-After: 1` when refused, in whole seconds rounded up, at least 1.
//!
//! The older `RateLimit-Limit` / `RateLimit-Remaining` / `RateLimit-Reset` fields (drafts up to
//! -06) are not sent.
//!
//! ```no_run
//! use platform_ratelimit::{Quota, RateLimiter};
//! use platform_redis::{connect, RedisSettings};
//!
//! # async fn run(settings: RedisSettings) -> Result<(), Box<dyn std::error::Error>> {
//! let limiter = RateLimiter::builder(connect(&settings)?)
//!     .key_prefix(&settings.key_prefix)
//!     .class("auth", Quota::per_minute(10))
//!     .class("reads", Quota::per_minute(600))
//!     .build()?;
//!
//! let decision = limiter.check("reads", "ip:203.0.113.7").await?;
//! let mut response = http::Response::new(());
//! response.headers_mut().extend(decision.headers()); // RateLimit-Policy, RateLimit, Retry-After
//! if !decision.allowed {
//!     *response.status_mut() = http::StatusCode::TOO_MANY_REQUESTS;
//! }
//! # Ok(()) }
//! ```

mod decision;
mod limiter;
mod local;
mod quota;

pub use decision::{Decision, HEADERS_DRAFT, RATELIMIT, RATELIMIT_POLICY, policy_item};
pub use limiter::{
    BuildError, DEFAULT_DEADLINE, DEFAULT_FALLBACK_BUCKETS, DEFAULT_PROBE_INTERVAL, DEGRADED_GAUGE,
    LOCAL_DECISIONS_COUNTER, REDIS_ERRORS_COUNTER, RateLimiter, RateLimiterBuilder, UnknownClass,
};
pub use quota::{ParseQuotaError, Quota};
