//! The native run's databases: their names and creating them, for every database the
//! services' manifests name (`[database]` in `services/NAME/service.toml`).
//!
//! Variables read: `DEVSTACK_POSTGRES_URL` (the server to create databases on, default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and `DEVSTACK_DATABASE_PREFIX` (default
//! `platform`: `platform_auth`, `platform_media`, `platform_user_eu`, …; the process tests use
//! one of their own so they never touch a developer's data).

use anyhow::Context as _;
use platform_config::Env;
use platform_devstack::manifest::Manifest;
use sqlx::{AssertSqlSafe, Connection as _, Executor as _, PgConnection};

/// Where the native run keeps its databases.
#[derive(Debug, Clone)]
pub struct Databases {
    pub admin_url: String,
    prefix: String,
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

    /// The variable that gives `service` its databases, with its value: `DATABASE_URL` for
    /// one database, `<NAME>_SHARDS` (`eu=<url>,us=<url>`) for one per region; `None` for a
    /// service without a database. The service's own, so it overrides the environment's.
    pub fn variable(&self, service: &Manifest) -> Option<(String, String)> {
        let database = service.database.as_ref()?;
        let value = if database.regions.is_empty() {
            self.url(&database.name)
        } else {
            database
                .regions
                .iter()
                .map(|region| {
                    format!(
                        "{region}={}",
                        self.url(&format!("{}_{region}", database.name))
                    )
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        Some((service.database_variable()?, value))
    }

    /// Creates the databases of every service in `services` that are missing.
    pub async fn create_missing(&self, services: &[Manifest]) -> anyhow::Result<()> {
        for database in services.iter().filter_map(|s| s.database.as_ref()) {
            if database.regions.is_empty() {
                ensure_database(&self.admin_url, &self.name(&database.name)).await?;
            }
            for region in &database.regions {
                let suffix = format!("{}_{region}", database.name);
                ensure_database(&self.admin_url, &self.name(&suffix)).await?;
            }
        }
        Ok(())
    }

    /// `env` with `service`'s database variable set to the native run's.
    pub fn env_for(&self, env: &Env, service: &Manifest) -> Env {
        match self.variable(service) {
            Some((name, value)) => env
                .clone()
                .with_overrides(&[(name.as_str(), value.as_str())]),
            None => env.clone(),
        }
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
