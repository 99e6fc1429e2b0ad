//! The shard map: one Postgres pool per region, each with its own deadlines, so a region
//! whose database is down fails fast and alone.

use std::collections::BTreeMap;
use std::sync::Arc;

use platform_config::SecretString;
use platform_postgres::{DataError, PoolSettings};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

/// The user database's migrations (`migrations/user`), applied to every shard.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/user");

/// A database error, with the region it came from.
#[derive(Debug, thiserror::Error)]
#[error("shard {region}: {source}")]
pub struct ShardError {
    pub region: String,
    #[source]
    pub source: DataError,
}

impl ShardError {
    /// Classifies (and logs, in a span naming the region) `source`, a failure of `region`'s
    /// database.
    pub fn new(region: &str, source: sqlx::Error) -> Self {
        let source = tracing::warn_span!("shard", region).in_scope(|| DataError::from(source));
        Self {
            region: region.to_owned(),
            source,
        }
    }
}

#[derive(Clone)]
pub struct Shards {
    pools: Arc<BTreeMap<String, PgPool>>,
}

impl Shards {
    /// Lazily connecting pools, one per configured region.
    pub fn connect(
        shards: &[(String, SecretString)],
        settings: &PoolSettings,
    ) -> anyhow::Result<Self> {
        let mut pools = BTreeMap::new();
        for (region, url) in shards {
            pools.insert(region.clone(), platform_postgres::connect(url, settings)?);
        }
        Ok(Self {
            pools: Arc::new(pools),
        })
    }

    /// The pool of `region`, if the region is configured.
    pub fn get(&self, region: &str) -> Option<&PgPool> {
        self.pools.get(region)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &PgPool)> {
        self.pools.iter()
    }

    /// Applies the migrations to every shard; `user migrate` runs this.
    pub async fn migrate_all(&self) -> anyhow::Result<()> {
        for (region, pool) in self.iter() {
            platform_postgres::migrate(pool, &MIGRATOR).await?;
            tracing::info!(region, "user migrations applied");
        }
        Ok(())
    }
}
