//! Redis pools with a deadline on connecting and on every command.
//!
//! Variables read by [`RedisSettings::from_env`]:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `REDIS_URL` | `redis://127.0.0.1:6379` | the Redis server (secret) |
//! | `REDIS_CONNECT_TIMEOUT` | `1s` | opening a connection (and waiting for a free one in the pool) |
//! | `REDIS_COMMAND_TIMEOUT` | `500ms` | one command's answer |
//! | `REDIS_KEY_PREFIX` | empty | namespace for keys when environments share a Redis |
//!
//! ```no_run
//! use platform_config::Env;
//! use platform_redis::{connect, redis, RedisSettings};
//!
//! # async fn run() -> anyhow::Result<()> {
//! let settings = RedisSettings::from_env(&Env::from_process())?;
//! let pool = connect(&settings)?;
//! let mut conn = pool.get().await?;
//! let pong: String = redis::cmd("PING").query_async(&mut conn).await?;
//! # Ok(()) }
//! ```
//!
//! [`redis_6_2_violations`] checks that a Lua script stays within Redis 6.2, what managed
//! Redis 6 offers; scripts run through `redis::Script` (EVALSHA, and on NOSCRIPT SCRIPT
//! LOAD, then EVALSHA again).

mod lua;

use std::time::Duration;

use anyhow::Context as _;
use deadpool_redis::redis::AsyncConnectionConfig;
use deadpool_redis::{Manager, Runtime};
use platform_config::{ConfigError, Env, ExposeSecret as _, SecretString};
use platform_runtime::CheckFuture;

pub use deadpool_redis::{Pool, PoolError, redis};
pub use lua::redis_6_2_violations;

#[derive(Debug, Clone)]
pub struct RedisSettings {
    pub url: SecretString,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    pub key_prefix: String,
}

impl RedisSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            url: env
                .secret_opt("REDIS_URL")
                .unwrap_or_else(|| "redis://127.0.0.1:6379".into()),
            connect_timeout: env.duration_or("REDIS_CONNECT_TIMEOUT", Duration::from_secs(1))?,
            command_timeout: env
                .duration_or("REDIS_COMMAND_TIMEOUT", Duration::from_millis(500))?,
            key_prefix: env.or("REDIS_KEY_PREFIX", String::new())?,
        })
    }
}

/// A pool whose connections time out on connect and on each command's answer, and whose
/// callers wait for a free connection no longer than the connect timeout.
pub fn connect(settings: &RedisSettings) -> anyhow::Result<Pool> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(settings.connect_timeout))
        .set_response_timeout(Some(settings.command_timeout));
    let manager = Manager::new_with_config(settings.url.expose_secret(), config)
        .context("REDIS_URL is not a valid Redis URL")?;
    Pool::builder(manager)
        .max_size(16)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(settings.connect_timeout))
        .create_timeout(Some(settings.connect_timeout))
        .recycle_timeout(Some(settings.command_timeout))
        .build()
        .context("building the Redis pool")
}

/// A readiness check of `pool` ([`check`]), for
/// [`Readiness::add_check`](platform_runtime::Readiness::add_check) or, when the service can
/// do part of its work without Redis,
/// [`Readiness::add_degrading_check`](platform_runtime::Readiness::add_degrading_check).
///
/// ```no_run
/// # fn run(pool: platform_redis::Pool, readiness: &platform_runtime::Readiness) {
/// readiness.add_degrading_check("redis", platform_redis::readiness_check(&pool));
/// # }
/// ```
pub fn readiness_check(pool: &Pool) -> impl Fn() -> CheckFuture + Send + Sync + 'static {
    platform_runtime::check_on(pool, check)
}

/// `PING`, within the pool's deadlines: `Err` says why Redis is unusable.
pub async fn check(pool: Pool) -> Result<(), String> {
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    redis::cmd("PING")
        .query_async::<String>(&mut conn)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_silent_server_fails_the_check_within_the_connect_timeout() {
        let silent = platform_testkit::black_hole().await;
        let settings = RedisSettings {
            url: format!("redis://{silent}").into(),
            connect_timeout: Duration::from_millis(200),
            command_timeout: Duration::from_millis(200),
            key_prefix: String::new(),
        };
        let pool = connect(&settings).unwrap();
        assert!(check(pool).await.is_err());
    }

    #[tokio::test]
    async fn a_live_server_answers_the_check() {
        let settings = RedisSettings::from_env(&Env::from_pairs([(
            "REDIS_URL",
            platform_testkit::redis_url(),
        )]))
        .unwrap();
        check(connect(&settings).unwrap()).await.unwrap();
    }
}
