//! The `credentials` table.

use std::time::Duration;

use platform_domain::{DisplayName, Email, Region, UserId};
use platform_kafka::{OutboxRelay, outbox};
use platform_postgres::bounded;
use sqlx::PgPool;

use crate::AuthError;
use crate::data::events;

pub struct NewCredential<'a> {
    pub user_id: &'a UserId,
    pub email: &'a Email,
    pub password_hash: &'a str,
    pub region: &'a Region,
}

#[derive(sqlx::FromRow)]
pub struct StoredCredential {
    pub user_id: String,
    pub region: String,
    pub password_hash: String,
}

#[derive(Clone)]
pub struct Credentials {
    pool: PgPool,
    relay: OutboxRelay,
}

impl Credentials {
    /// `relay` is woken after a registration commits, so its event leaves at once.
    pub fn new(pool: PgPool, relay: OutboxRelay) -> Self {
        Self { pool, relay }
    }

    /// Inserts the credentials, the first refresh token of their first session and the
    /// `user.registered` event in one transaction: a registration either fully exists, and
    /// is announced, or not at all.
    pub async fn register(
        &self,
        credential: &NewCredential<'_>,
        display_name: &DisplayName,
        refresh_hash: &[u8],
        refresh_ttl: Duration,
    ) -> Result<(), AuthError> {
        let mut tx = bounded(self.pool.begin()).await?;
        bounded(sqlx::query(
            "insert into credentials (user_id, email, password_hash, region) values ($1, $2, $3, $4)",
        )
        .bind(credential.user_id.as_ref())
        .bind(credential.email.as_ref())
        .bind(credential.password_hash)
        .bind(credential.region.as_ref())
        .execute(&mut *tx))
        .await
        .map_err(on_constraint)?;
        super::refresh_tokens::insert(
            &mut tx,
            credential.user_id.as_ref(),
            uuid::Uuid::new_v4(),
            refresh_hash,
            refresh_ttl,
        )
        .await?;
        outbox::enqueue(&mut tx, &events::user_registered(credential, display_name)).await?;
        bounded(tx.commit()).await?;
        self.relay.wake();
        Ok(())
    }

    pub async fn find_by_email(&self, email: &str) -> Result<Option<StoredCredential>, AuthError> {
        Ok(bounded(
            sqlx::query_as(
                "select user_id, region, password_hash from credentials where email = $1",
            )
            .bind(email)
            .fetch_optional(&self.pool),
        )
        .await?)
    }
}

/// Maps a constraint violation to the error the caller should see, by constraint name.
fn on_constraint(e: sqlx::Error) -> AuthError {
    match e.as_database_error().and_then(|db| db.constraint()) {
        Some("credentials_email_key") => AuthError::EmailTaken,
        _ => e.into(),
    }
}
