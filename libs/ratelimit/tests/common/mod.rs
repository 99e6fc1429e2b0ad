//! What the tests share: pools on the real Redis, a limiter per test with its own key prefix.

#![allow(dead_code)] // each test binary uses a part

use std::time::Duration;

use platform_ratelimit::{Quota, RateLimiter};
use platform_redis::{Pool, RedisSettings, connect};

/// A pool on `url` with short deadlines, as a service would make it.
pub fn pool_on(url: &str) -> Pool {
    connect(&RedisSettings {
        url: url.to_owned().into(),
        connect_timeout: Duration::from_millis(300),
        command_timeout: Duration::from_millis(300),
        key_prefix: String::new(),
    })
    .expect("a Redis pool")
}

/// A pool on the test Redis (127.0.0.1:6379 unless TEST_REDIS_URL says otherwise).
pub fn pool() -> Pool {
    pool_on(&platform_testkit::redis_url())
}

/// A key prefix no other test uses.
pub fn prefix() -> String {
    platform_testkit::unique("test:ratelimit:") + ":"
}

/// A limiter on `pool` with one class.
pub fn limiter(pool: Pool, prefix: &str, class: &str, quota: Quota) -> RateLimiter {
    RateLimiter::builder(pool)
        .key_prefix(prefix)
        .class(class, quota)
        .build()
        .expect("a valid limiter")
}
