//! The `profiles` table, in whichever shard holds the user.

use platform_domain::{Region, UserId};
use platform_kafka::idempotency::Token;
use platform_postgres::bounded;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgPool, Row as _};

use crate::data::{ShardError, Shards};
use crate::service::{Avatar, NewProfile, Profile};

const COLUMNS: &str = "id, email, display_name, bio, region, avatar, created_at, updated_at";

/// A row of [`COLUMNS`]; `avatar` is `jsonb`, null until one is set.
impl sqlx::FromRow<'_, PgRow> for Profile {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        let avatar: Option<Json<Avatar>> = row.try_get("avatar")?;
        Ok(Self {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            display_name: row.try_get("display_name")?,
            bio: row.try_get("bio")?,
            region: row.try_get("region")?,
            avatar: avatar.map(|Json(avatar)| avatar),
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

#[derive(Clone)]
pub struct ProfileStore {
    shards: Shards,
}

impl ProfileStore {
    pub fn new(shards: Shards) -> Self {
        Self { shards }
    }

    /// Whether `region` has a shard here.
    pub fn serves(&self, region: &Region) -> bool {
        self.shards.get(region.as_ref()).is_some()
    }

    /// The profile of `id`, from the shard of its region.
    pub async fn find(&self, id: &UserId) -> Result<Option<Profile>, ShardError> {
        self.on_shard(id.region().as_ref(), |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {COLUMNS} from profiles where id = $1"
            )))
            .bind(id.as_ref())
            .fetch_optional(pool)
        })
        .await
    }

    /// The profiles among `ids` that exist in `region`'s shard; one query per shard.
    pub async fn find_many(
        &self,
        region: &Region,
        ids: &[UserId],
    ) -> Result<Vec<Profile>, ShardError> {
        let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
        self.on_shard(region.as_ref(), |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {COLUMNS} from profiles where id = any($1)"
            )))
            .bind(ids)
            .fetch_all(pool)
        })
        .await
    }

    /// Sets the given fields; `None` leaves a field as it is. `None` back if no such user.
    pub async fn update(
        &self,
        id: &UserId,
        display_name: Option<&str>,
        bio: Option<&str>,
    ) -> Result<Option<Profile>, ShardError> {
        self.on_shard(id.region().as_ref(), |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "update profiles
                 set display_name = coalesce($2, display_name), bio = coalesce($3, bio), updated_at = now()
                 where id = $1
                 returning {COLUMNS}"
            )))
            .bind(id.as_ref())
            .bind(display_name)
            .bind(bio)
            .fetch_optional(pool)
        })
        .await
    }

    /// Makes `avatar` the user's profile picture. `None` back if no such user.
    pub async fn set_avatar(
        &self,
        id: &UserId,
        avatar: &Avatar,
    ) -> Result<Option<Profile>, ShardError> {
        self.on_shard(id.region().as_ref(), |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "update profiles set avatar = $2, updated_at = now() where id = $1 returning {COLUMNS}"
            )))
            .bind(id.as_ref())
            .bind(Json(avatar))
            .fetch_optional(pool)
        })
        .await
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

    /// Runs one statement on `region`'s shard, within the statement deadline, its failure
    /// naming the shard.
    async fn on_shard<'a, T, F>(
        &'a self,
        region: &str,
        statement: impl FnOnce(&'a PgPool) -> F,
    ) -> Result<T, ShardError>
    where
        F: Future<Output = Result<T, sqlx::Error>>,
    {
        let pool = self.pool(region)?;
        bounded(statement(pool))
            .await
            .map_err(|source| shard_error(region, source))
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
