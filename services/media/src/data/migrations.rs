//! The media database's migrations, and applying them.

use platform_config::SecretString;
use platform_postgres::PoolSettings;
use sqlx::migrate::Migrator;

/// The media database's migrations (`migrations/media`), embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/media");

/// Applies the migrations and returns; `media migrate` runs this.
pub async fn migrate(url: &SecretString, pool: &PoolSettings) -> anyhow::Result<()> {
    let pool = platform_postgres::connect(url, pool)?;
    platform_postgres::migrate(&pool, &MIGRATOR).await?;
    tracing::info!("media migrations applied");
    Ok(())
}
