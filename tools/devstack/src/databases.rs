//! The native run's databases: their names, creating them, and applying every migration.
//!
//! Variables read: `DEVSTACK_POSTGRES_URL` (the server to create databases on, default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and `DEVSTACK_DATABASE_PREFIX` (default
//! `platform`: `platform_auth`, `platform_media`, `platform_user_eu`, …; the process tests use
//! one of their own so they never touch a developer's data).

use anyhow::Context as _;
use platform_config::Env;
use sqlx::{AssertSqlSafe, Connection as _, Executor as _, PgConnection};

/// The user service's regions, each in a database of its own, as in production.
pub const USER_REGIONS: [&str; 2] = ["eu", "us"];

/// Where the native run keeps its databases.
#[derive(Debug, Clone)]
pub struct Databases {
    pub admin_url: String,
    prefix: String,
}

/// Each service's settings as the native run configures it, its databases migrated.
pub struct Prepared {
    pub auth: auth_service::Settings,
    pub media: media_service::Settings,
    pub worker: media_worker::Settings,
    pub user: user_service::Settings,
    pub gateway: gateway_service::Settings,
}

impl Databases {
    pub fn from_env(env: &Env) -> anyhow::Result<Self> {
        Ok(Self {
            admin_url: env.or(
                "DEVSTACK_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432/postgres".to_owned(),
            )?,
            prefix: env.or("DEVSTACK_DATABASE_PREFIX", "platform".to_owned())?,
        })
    }

    /// The name of the native run's database `suffix` (`auth`, `user_eu`, …).
    pub fn name(&self, suffix: &str) -> String {
        format!("{}_{suffix}", self.prefix)
    }

    pub fn url(&self, suffix: &str) -> String {
        platform_testkit::database_url(&self.admin_url, &self.name(suffix))
    }

    /// Creates the database `suffix` unless it exists, and returns its URL.
    pub async fn ensure(&self, suffix: &str) -> anyhow::Result<String> {
        ensure_database(&self.admin_url, &self.name(suffix)).await?;
        Ok(self.url(suffix))
    }

    /// `USER_SHARDS`: `eu=<url>,us=<url>`.
    pub fn user_shards(&self) -> String {
        USER_REGIONS
            .iter()
            .map(|region| format!("{region}={}", self.url(&format!("user_{region}"))))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads every service's settings from `env` (auth and media each get their own
    /// `DATABASE_URL`), creates the databases that are missing and applies the migrations.
    pub async fn prepare(&self, env: &Env) -> anyhow::Result<Prepared> {
        let auth_url = self.url("auth");
        let media_url = self.url("media");
        let prepared = Prepared {
            auth: auth_service::Settings::from_env(
                &env.clone().with_overrides(&[("DATABASE_URL", &auth_url)]),
            )?,
            media: media_service::Settings::from_env(
                &env.clone().with_overrides(&[("DATABASE_URL", &media_url)]),
            )?,
            worker: media_worker::Settings::from_env(env)?,
            user: user_service::Settings::from_env(env)?,
            gateway: gateway_service::Settings::from_env(env)?,
        };
        let mut suffixes = vec!["auth".to_owned(), "media".to_owned()];
        suffixes.extend(USER_REGIONS.iter().map(|r| format!("user_{r}")));
        for suffix in &suffixes {
            self.ensure(suffix).await?;
        }
        auth_service::data::migrate(&prepared.auth.database_url, &prepared.auth.database).await?;
        media_service::data::migrate(&prepared.media.database_url, &prepared.media.database)
            .await?;
        user_service::data::Shards::connect(&prepared.user.shards, &prepared.user.database)?
            .migrate_all()
            .await?;
        Ok(prepared)
    }
}

/// Creates `name` on the server at `admin_url` unless it exists.
async fn ensure_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(admin_url)
        .await
        .with_context(|| format!("cannot reach Postgres at {admin_url}; is it running?"))?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        // `name` is built from our constants and the prefix the developer set, never from
        // request input.
        conn.execute(AssertSqlSafe(format!(r#"create database "{name}""#)))
            .await
            .with_context(|| format!("creating database {name}"))?;
        tracing::info!(database = name, "created");
    }
    Ok(())
}
