//! Connection pools with a deadline on every call: Postgres (acquire and statement) and
//! Redis (connect and command).

use std::str::FromStr as _;

use anyhow::Context as _;
use deadpool_redis::redis::AsyncConnectionConfig;
use deadpool_redis::{Manager, Pool as RedisPool, Runtime};
use platform_config::ExposeSecret as _;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::{DatabaseSettings, RedisSettings};

/// The auth database's migrations (`migrations/auth`), embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/auth");

/// A lazily connecting pool: the service starts while Postgres is still coming up, and
/// readiness reports it until it answers.
pub fn connect_postgres(settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(settings.url.expose_secret())
        .context("DATABASE_URL is not a valid Postgres URL")?
        .options([(
            "statement_timeout",
            format!("{}ms", settings.statement_timeout.as_millis()),
        )]);
    Ok(PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .connect_lazy_with(options))
}

/// Applies the migrations and returns; `auth migrate` runs this.
pub async fn migrate(settings: &DatabaseSettings) -> anyhow::Result<()> {
    let pool = connect_postgres(settings)?;
    MIGRATOR
        .run(&pool)
        .await
        .context("applying the auth migrations")?;
    tracing::info!("auth migrations applied");
    Ok(())
}

pub fn connect_redis(settings: &RedisSettings) -> anyhow::Result<RedisPool> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(settings.connect_timeout))
        .set_response_timeout(Some(settings.command_timeout));
    let manager = Manager::new_with_config(settings.url.expose_secret(), config)
        .context("REDIS_URL is not a valid Redis URL")?;
    RedisPool::builder(manager)
        .max_size(16)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(settings.connect_timeout))
        .create_timeout(Some(settings.connect_timeout))
        .recycle_timeout(Some(settings.command_timeout))
        .build()
        .context("building the Redis pool")
}

pub async fn check_postgres(pool: PgPool) -> Result<(), String> {
    sqlx::query("select 1")
        .execute(&pool)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

pub async fn check_redis(pool: RedisPool) -> Result<(), String> {
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    deadpool_redis::redis::cmd("PING")
        .query_async::<String>(&mut conn)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}
