//! Postgres pools with a deadline on every call: waiting for (or opening) a connection is
//! bounded by `DATABASE_ACQUIRE_TIMEOUT`; every statement by Postgres's own
//! `statement_timeout` (`DATABASE_STATEMENT_TIMEOUT`), set on each connection, and by a
//! client-side deadline, for a server that stops answering: each call site wraps its
//! statements in [`bounded`] (see the `deadline` module for why there).
//!
//! Metrics ([`spawn_pool_metrics`]): `db_pool_connections{database, state="in_use"|"idle"}`
//! and `db_pool_max_connections{database}`, sampled every 5 s.
//!
//! Variables read by [`PoolSettings::from_env`]:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `DATABASE_MAX_CONNECTIONS` | `10` | pool size (per database) |
//! | `DATABASE_ACQUIRE_TIMEOUT` | `2s` | waiting for (or opening) a connection |
//! | `DATABASE_STATEMENT_TIMEOUT` | `5s` | Postgres cancels a statement that runs longer (`statement_timeout`); a call that gets no answer fails on the client after `DATABASE_ACQUIRE_TIMEOUT` + this + 1s |
//!
//! The URL is the service's own business (`DATABASE_URL`, or one per shard).
//!
//! ```no_run
//! use platform_config::Env;
//! use platform_postgres::{connect, PoolSettings};
//!
//! # async fn run() -> anyhow::Result<()> {
//! let env = Env::from_process();
//! let pool = connect(&env.secret("DATABASE_URL")?, &PoolSettings::from_env(&env)?)?;
//! platform_postgres::check(pool.clone()).await.map_err(anyhow::Error::msg)?;
//! # Ok(()) }
//! ```
//!
//! A service watches each of its pools: a readiness check, and the gauges.
//!
//! ```no_run
//! # async fn run(pool: sqlx::PgPool, settings: platform_runtime::RuntimeSettings) -> anyhow::Result<()> {
//! use platform_runtime::{Readiness, ServiceHost};
//!
//! let readiness = Readiness::new();
//! readiness.add_check("postgres", platform_postgres::readiness_check(&pool));
//! let host = ServiceHost::start(&settings, readiness).await?;
//! platform_postgres::spawn_pool_metrics(host.lifecycle(), &pool, "auth");
//! # Ok(()) }
//! ```

mod deadline;
mod error;

pub use deadline::{bounded, statement_deadline};
pub use error::{DataError, Failure, classify};

use std::str::FromStr as _;
use std::time::Duration;

use anyhow::Context as _;
use platform_config::{ConfigError, Env, ExposeSecret as _, SecretString};
use platform_runtime::{CheckFuture, Lifecycle};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Pool size and deadlines, shared by every database a service talks to.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
}

impl PoolSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            max_connections: env.or("DATABASE_MAX_CONNECTIONS", 10)?,
            acquire_timeout: env.duration_or("DATABASE_ACQUIRE_TIMEOUT", Duration::from_secs(2))?,
            statement_timeout: env
                .duration_or("DATABASE_STATEMENT_TIMEOUT", Duration::from_secs(5))?,
        })
    }
}

/// A lazily connecting pool: the service starts while Postgres is still coming up, and
/// readiness reports it until it answers. Sets the deadline [`bounded`] applies.
pub fn connect(url: &SecretString, settings: &PoolSettings) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(url.expose_secret())
        .context("the database URL is not a valid Postgres URL")?
        .options([(
            "statement_timeout",
            format!("{}ms", settings.statement_timeout.as_millis()),
        )]);
    deadline::install(settings);
    Ok(PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .connect_lazy_with(options))
}

/// How often [`report_pool_metrics`] samples a pool.
const POOL_SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// Keeps the pool gauges of `database` current on `lifecycle` until shutdown: connections in
/// use, idle, and the most the pool may open. A pool whose `in_use` stays at its maximum
/// makes callers wait, and then fail with `DATABASE_ACQUIRE_TIMEOUT`: that is what the
/// dashboard shows.
///
/// ```no_run
/// # fn run(pool: sqlx::PgPool, host: &platform_runtime::ServiceHost) {
/// platform_postgres::spawn_pool_metrics(host.lifecycle(), &pool, "auth");
/// # }
/// ```
pub fn spawn_pool_metrics(lifecycle: &Lifecycle, pool: &PgPool, database: impl Into<String>) {
    let (pool, database) = (pool.clone(), database.into());
    lifecycle.spawn("postgres pool metrics", move |stop| {
        report_pool_metrics(pool, database, stop)
    });
}

async fn report_pool_metrics(
    pool: PgPool,
    database: String,
    stop: tokio_util::sync::CancellationToken,
) -> anyhow::Result<()> {
    let in_use =
        metrics::gauge!("db_pool_connections", "database" => database.clone(), "state" => "in_use");
    let idle =
        metrics::gauge!("db_pool_connections", "database" => database.clone(), "state" => "idle");
    metrics::gauge!("db_pool_max_connections", "database" => database)
        .set(f64::from(pool.options().get_max_connections()));
    let mut every = tokio::time::interval(POOL_SAMPLE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            _ = every.tick() => {
                let open = pool.size();
                let idle_now = u32::try_from(pool.num_idle()).unwrap_or(open);
                in_use.set(f64::from(open.saturating_sub(idle_now)));
                idle.set(f64::from(idle_now));
            }
        }
    }
}

/// Applies `migrator` to the database behind `pool`.
pub async fn migrate(pool: &PgPool, migrator: &Migrator) -> anyhow::Result<()> {
    migrator.run(pool).await.context("applying migrations")?;
    Ok(())
}

/// Connects to the database at `url` and applies `migrator`: what a service's `migrate`
/// command does with its one database. `service` names it in the log line.
///
/// ```no_run
/// # static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate::Migrator::DEFAULT;
/// # async fn run(url: &platform_config::SecretString) -> anyhow::Result<()> {
/// let settings = platform_postgres::PoolSettings::from_env(&platform_config::Env::from_process())?;
/// platform_postgres::connect_and_migrate(url, &settings, &MIGRATOR, "billing").await?;
/// # Ok(()) }
/// ```
pub async fn connect_and_migrate(
    url: &SecretString,
    settings: &PoolSettings,
    migrator: &Migrator,
    service: &str,
) -> anyhow::Result<()> {
    let pool = connect(url, settings)?;
    migrate(&pool, migrator).await?;
    tracing::info!("{service} migrations applied");
    Ok(())
}

/// A readiness check of `pool` ([`check`]), for
/// [`Readiness::add_check`](platform_runtime::Readiness::add_check) or, when the service can
/// do part of its work without this database,
/// [`Readiness::add_degrading_check`](platform_runtime::Readiness::add_degrading_check).
///
/// ```no_run
/// # fn run(pool: sqlx::PgPool, readiness: &platform_runtime::Readiness) {
/// readiness.add_check("postgres", platform_postgres::readiness_check(&pool));
/// # }
/// ```
pub fn readiness_check(pool: &PgPool) -> impl Fn() -> CheckFuture + Send + Sync + 'static {
    platform_runtime::check_on(pool, check)
}

/// One round trip, within the pool's deadlines: `Err` says why the database is unusable.
pub async fn check(pool: PgPool) -> Result<(), String> {
    bounded(sqlx::query("select 1").execute(&pool))
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_silent_server_is_unavailable_within_the_acquire_timeout() {
        let silent = platform_testkit::black_hole().await;
        let settings = PoolSettings {
            max_connections: 1,
            acquire_timeout: Duration::from_millis(200),
            statement_timeout: Duration::from_secs(1),
        };
        let pool = connect(&format!("postgres://postgres@{silent}/x").into(), &settings).unwrap();
        let error = sqlx::query("select 1").execute(&pool).await.unwrap_err();
        assert_eq!(classify(&error), Failure::Unavailable);
    }

    #[tokio::test]
    async fn a_database_that_refuses_connections_is_unavailable() {
        use sqlx::{Connection as _, Executor as _};
        let name = platform_testkit::unique("refusing_");
        let mut admin = sqlx::PgConnection::connect(&platform_testkit::postgres_admin_url())
            .await
            .unwrap();
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                r#"create database "{name}" allow_connections false"#
            )))
            .await
            .unwrap();
        let url = platform_testkit::database_url(&platform_testkit::postgres_admin_url(), &name);
        let settings = PoolSettings {
            max_connections: 1,
            acquire_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(1),
        };
        let pool = connect(&url.into(), &settings).unwrap();
        let error = sqlx::query("select 1").execute(&pool).await.unwrap_err();
        admin
            .execute(sqlx::AssertSqlSafe(format!(r#"drop database "{name}""#)))
            .await
            .unwrap();
        assert_eq!(classify(&error), Failure::Unavailable, "{error}");
    }

    #[tokio::test]
    async fn a_slow_statement_is_cut_off_by_the_statement_timeout() {
        let settings = PoolSettings {
            max_connections: 1,
            acquire_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_millis(100),
        };
        let pool = connect(&platform_testkit::postgres_admin_url().into(), &settings).unwrap();
        let error = sqlx::query("select pg_sleep(5)")
            .execute(&pool)
            .await
            .unwrap_err();
        assert_eq!(classify(&error), Failure::Timeout);
    }
}
