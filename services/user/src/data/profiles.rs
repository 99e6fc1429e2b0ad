//! The `profiles` table, in whichever shard holds the user.

use platform_kafka::idempotency::Token;
use platform_postgres::bounded;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::data::{ShardError, Shards};

/// A stored profile. Serialisable, because the cache holds it too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Profile {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub bio: String,
    pub region: String,
    // No `#[serde(default)]`: a cache entry written before avatars existed must read as a
    // miss (and be reloaded from Postgres), not as a profile without an avatar.
    #[sqlx(json(nullable))]
    pub avatar: Option<Avatar>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A profile picture: the media it shows and the sizes it comes in, copied from the media
/// service when the user picked it, so reading a profile never asks the media service.
/// Stored as `jsonb` in `profiles.avatar`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Avatar {
    pub media_id: String,
    pub variants: Vec<AvatarVariant>,
}

/// One size of an avatar, served at `/v1/media/{media_id}/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvatarVariant {
    pub name: String,
    pub width: u32,
    pub height: u32,
}

/// A profile to create, from the registration that announced the user.
#[derive(Debug, Clone)]
pub struct NewProfile {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub region: String,
}

const COLUMNS: &str = "id, email, display_name, bio, region, avatar, created_at, updated_at";

#[derive(Clone)]
pub struct ProfileStore {
    shards: Shards,
}

impl ProfileStore {
    pub fn new(shards: Shards) -> Self {
        Self { shards }
    }

    /// Whether `region` has a shard here.
    pub fn serves(&self, region: &str) -> bool {
        self.shards.get(region).is_some()
    }

    pub async fn find(&self, region: &str, id: &str) -> Result<Option<Profile>, ShardError> {
        let pool = self.pool(region)?;
        bounded(
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {COLUMNS} from profiles where id = $1"
            )))
            .bind(id)
            .fetch_optional(pool),
        )
        .await
        .map_err(|source| shard_error(region, source))
    }

    /// The profiles among `ids` that exist in `region`'s shard; one query per shard.
    pub async fn find_many(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<Profile>, ShardError> {
        let pool = self.pool(region)?;
        bounded(
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {COLUMNS} from profiles where id = any($1)"
            )))
            .bind(ids)
            .fetch_all(pool),
        )
        .await
        .map_err(|source| shard_error(region, source))
    }

    /// Sets the given fields; `None` leaves a field as it is. `None` back if no such user.
    pub async fn update(
        &self,
        region: &str,
        id: &str,
        display_name: Option<&str>,
        bio: Option<&str>,
    ) -> Result<Option<Profile>, ShardError> {
        let pool = self.pool(region)?;
        bounded(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "update profiles
             set display_name = coalesce($2, display_name), bio = coalesce($3, bio), updated_at = now()
             where id = $1
             returning {COLUMNS}"
        )))
        .bind(id)
        .bind(display_name)
        .bind(bio)
        .fetch_optional(pool))
        .await
        .map_err(|source| shard_error(region, source))
    }

    /// Makes `avatar` the user's profile picture. `None` back if no such user.
    pub async fn set_avatar(
        &self,
        region: &str,
        id: &str,
        avatar: &Avatar,
    ) -> Result<Option<Profile>, ShardError> {
        let pool = self.pool(region)?;
        bounded(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "update profiles set avatar = $2, updated_at = now() where id = $1 returning {COLUMNS}"
        )))
        .bind(id)
        .bind(sqlx::types::Json(avatar))
        .fetch_optional(pool))
        .await
        .map_err(|source| shard_error(region, source))
    }

    /// Creates the profile unless the event `once` names was already applied: the event is
    /// recorded in the same transaction as the insert, so redelivery changes nothing.
    /// `true` when this call created it.
    pub async fn create_once(&self, once: Token, profile: &NewProfile) -> Result<bool, ShardError> {
        let region = profile.region.as_str();
        let pool = self.pool(region)?;
        let on_shard = |source| shard_error(region, source);
        let mut tx = bounded(pool.begin()).await.map_err(on_shard)?;
        if !once.first_delivery(&mut tx).await.map_err(on_shard)? {
            return Ok(false);
        }
        bounded(
            sqlx::query(
                "insert into profiles (id, email, display_name, region) values ($1, $2, $3, $4)
             on conflict (id) do nothing",
            )
            .bind(&profile.id)
            .bind(&profile.email)
            .bind(&profile.display_name)
            .bind(region)
            .execute(&mut *tx),
        )
        .await
        .map_err(on_shard)?;
        bounded(tx.commit()).await.map_err(on_shard)?;
        Ok(true)
    }

    fn pool(&self, region: &str) -> Result<&PgPool, ShardError> {
        // Callers route by the id's region, which the service checked; a miss is a bug.
        self.shards
            .get(region)
            .ok_or_else(|| shard_error(region, sqlx::Error::PoolClosed))
    }
}

fn shard_error(region: &str, source: sqlx::Error) -> ShardError {
    ShardError::new(region, source)
}
