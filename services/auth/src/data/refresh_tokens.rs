//! The `refresh_tokens` table: sessions as families of single-use tokens.

use std::time::Duration;

use platform_postgres::bounded;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::AuthError;

/// What presenting a refresh token led to.
pub enum Rotation {
    /// The token was live; it is now spent and its successor stored.
    Rotated { user_id: String, region: String },
    /// The token had been spent before: its family is now revoked.
    ReuseDetected { user_id: String },
    /// Unknown, expired or revoked.
    Invalid,
}

#[derive(Clone)]
pub struct RefreshTokens {
    pool: PgPool,
}

/// Inserts a token into `family`; shared with registration's transaction.
pub(super) async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    user_id: &str,
    family: Uuid,
    hash: &[u8],
    ttl: Duration,
) -> Result<(), AuthError> {
    bounded(
        sqlx::query(
            "insert into refresh_tokens (token_hash, family_id, user_id, expires_at)
         values ($1, $2, $3, now() + make_interval(secs => $4))",
        )
        .bind(hash)
        .bind(family)
        .bind(user_id)
        .bind(ttl.as_secs_f64())
        .execute(&mut **tx),
    )
    .await?;
    Ok(())
}

impl RefreshTokens {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Starts a new session (family) for `user_id`.
    pub async fn start_family(
        &self,
        user_id: &str,
        hash: &[u8],
        ttl: Duration,
    ) -> Result<(), AuthError> {
        let mut tx = bounded(self.pool.begin()).await?;
        insert(&mut tx, user_id, Uuid::new_v4(), hash, ttl).await?;
        bounded(tx.commit()).await?;
        Ok(())
    }

    /// Spends the token with hash `old` and stores `new` in the same family, atomically:
    /// of two concurrent presentations of one token, exactly one rotates.
    pub async fn rotate(
        &self,
        old: &[u8],
        new: &[u8],
        ttl: Duration,
    ) -> Result<Rotation, AuthError> {
        let mut tx = bounded(self.pool.begin()).await?;
        let spent: Option<(Uuid, String, String)> = bounded(
            sqlx::query_as(
                "update refresh_tokens t set spent_at = now()
             from credentials c
             where t.token_hash = $1 and c.user_id = t.user_id
               and t.spent_at is null and t.revoked_at is null and t.expires_at > now()
             returning t.family_id, t.user_id, c.region",
            )
            .bind(old)
            .fetch_optional(&mut *tx),
        )
        .await?;
        if let Some((family, user_id, region)) = spent {
            insert(&mut tx, &user_id, family, new, ttl).await?;
            bounded(tx.commit()).await?;
            return Ok(Rotation::Rotated { user_id, region });
        }
        // Not live. If it was spent (not merely unknown or expired), someone replayed it.
        let reused: Option<(Uuid, String)> = bounded(sqlx::query_as(
            "select family_id, user_id from refresh_tokens where token_hash = $1 and spent_at is not null",
        )
        .bind(old)
        .fetch_optional(&mut *tx))
        .await?;
        let Some((family, user_id)) = reused else {
            return Ok(Rotation::Invalid);
        };
        revoke_family(&mut tx, family).await?;
        bounded(tx.commit()).await?;
        Ok(Rotation::ReuseDetected { user_id })
    }

    /// Revokes every token of the family the token with hash `hash` belongs to.
    pub async fn revoke_family_of(&self, hash: &[u8]) -> Result<(), AuthError> {
        let mut tx = bounded(self.pool.begin()).await?;
        let family: Option<Uuid> = bounded(
            sqlx::query_scalar("select family_id from refresh_tokens where token_hash = $1")
                .bind(hash)
                .fetch_optional(&mut *tx),
        )
        .await?;
        if let Some(family) = family {
            revoke_family(&mut tx, family).await?;
        }
        bounded(tx.commit()).await?;
        Ok(())
    }
}

async fn revoke_family(tx: &mut Transaction<'_, Postgres>, family: Uuid) -> Result<(), AuthError> {
    bounded(sqlx::query(
        "update refresh_tokens set revoked_at = now() where family_id = $1 and revoked_at is null",
    )
    .bind(family)
    .execute(&mut **tx))
    .await?;
    Ok(())
}
