//! Login throttling in Redis: failed logins are counted per email and per client address in
//! fixed windows. Counters live in Redis, so every replica sees the same counts.
//!
//! If Redis does not answer, logins fail closed (`DependencyUnavailable`): an attacker must
//! not get unlimited guesses by knocking Redis over.

use std::time::Duration;

use platform_redis::redis::{self, RedisError};
use platform_redis::{Pool, PoolError};
use sha2::{Digest as _, Sha256};

use crate::AuthError;
use crate::config::ThrottleSettings;

#[derive(Clone)]
pub struct LoginThrottle {
    pool: Pool,
    prefix: String,
    limits: ThrottleSettings,
}

impl From<RedisError> for AuthError {
    fn from(e: RedisError) -> Self {
        tracing::warn!(error = %e, "redis command failed");
        if e.is_timeout() {
            AuthError::DependencyTimeout("redis")
        } else {
            AuthError::DependencyUnavailable("redis")
        }
    }
}

impl From<PoolError> for AuthError {
    fn from(e: PoolError) -> Self {
        tracing::warn!(error = %e, "no redis connection");
        AuthError::DependencyUnavailable("redis")
    }
}

impl LoginThrottle {
    pub fn new(pool: Pool, prefix: &str, limits: ThrottleSettings) -> Self {
        Self {
            pool,
            prefix: prefix.to_owned(),
            limits,
        }
    }

    /// Refuses the attempt while either counter is at its limit, saying when to retry.
    pub async fn check(&self, email: &str, address: &str) -> Result<(), AuthError> {
        let (email_key, address_key) = (self.email_key(email), self.address_key(address));
        let mut conn = self.pool.get().await?;
        let (email_count, email_ttl, address_count, address_ttl): (
            Option<u32>,
            i64,
            Option<u32>,
            i64,
        ) = redis::pipe()
            .get(&email_key)
            .pttl(&email_key)
            .get(&address_key)
            .pttl(&address_key)
            .query_async(&mut conn)
            .await?;
        let over =
            |count: Option<u32>, limit: u32, ttl: i64| (count.unwrap_or(0) >= limit).then_some(ttl);
        let retry_after = [
            over(email_count, self.limits.max_failures_per_email, email_ttl),
            over(
                address_count,
                self.limits.max_failures_per_address,
                address_ttl,
            ),
        ]
        .into_iter()
        .flatten()
        .max();
        match retry_after {
            // A negative TTL means the key is expiring right now: one second is honest.
            Some(ttl_ms) => Err(AuthError::Throttled {
                retry_after: Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0))
                    .max(Duration::from_secs(1)),
            }),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt against the email and the address.
    pub async fn record_failure(&self, email: &str, address: &str) -> Result<(), AuthError> {
        let window_ms = u64::try_from(self.limits.window.as_millis()).unwrap_or(u64::MAX);
        let mut conn = self.pool.get().await?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in [self.email_key(email), self.address_key(address)] {
            // The window starts at the first failure; later failures do not extend it.
            pipe.incr(&key, 1).ignore();
            pipe.cmd("PEXPIRE")
                .arg(&key)
                .arg(window_ms)
                .arg("NX")
                .ignore();
        }
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    /// A successful login clears the email's count (not the address's: one good password
    /// must not reset a spray over many accounts).
    pub async fn forgive(&self, email: &str) -> Result<(), AuthError> {
        let mut conn = self.pool.get().await?;
        redis::cmd("DEL")
            .arg(self.email_key(email))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Emails are hashed so Redis never holds them in clear.
    fn email_key(&self, email: &str) -> String {
        let digest = Sha256::digest(email.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}login:email:{hex}", self.prefix)
    }

    fn address_key(&self, address: &str) -> String {
        format!("{}login:addr:{address}", self.prefix)
    }
}
