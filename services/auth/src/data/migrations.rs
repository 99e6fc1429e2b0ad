//! The auth database's migrations, and applying them.

use platform_config::SecretString;
use platform_postgres::PoolSettings;
use sqlx::migrate::Migrator;

/// The auth database's migrations (`migrations/auth`), embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/auth");

/// Applies the migrations and returns; `auth migrate` runs this.
pub async fn migrate(url: &SecretString, pool: &PoolSettings) -> anyhow::Result<()> {
    platform_postgres::connect_and_migrate(url, pool, &MIGRATOR, "auth").await
}
