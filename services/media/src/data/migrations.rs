//! The media database's migrations, and applying them.

use platform_config::SecretString;
use platform_postgres::PoolSettings;
use sqlx::migrate::Migrator;

/// The media database's migrations (`migrations/media`), embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/media");

/// Applies the migrations and returns; `media migrate` runs this.
pub async fn migrate(url: &SecretString, pool: &PoolSettings) -> anyhow::Result<()> {
    platform_postgres::connect_and_migrate(url, pool, &MIGRATOR, "media").await
}
