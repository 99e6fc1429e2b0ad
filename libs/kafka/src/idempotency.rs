//! Applying each event once although Kafka may deliver it more than once.
//!
//! A handler records the event id in `processed_events` in the same transaction as its
//! effect: the first delivery inserts the row and applies the effect; a redelivery finds the
//! row, skips the effect, and is acknowledged all the same.
//!
//! The table (`libs/kafka/sql/processed_events.sql`; copy it into the service's migrations):
//!
//! ```sql
#![doc = include_str!("../sql/processed_events.sql")]
//! ```
//!
//! ```no_run
//! use platform_kafka::{idempotency, EventHandler, HandlerError, ReceivedEvent};
//!
//! struct OnUserRegistered { pool: sqlx::PgPool }
//!
//! impl EventHandler for OnUserRegistered {
//!     async fn handle(&self, event: &ReceivedEvent) -> Result<(), HandlerError> {
//!         let mut tx = self.pool.begin().await.map_err(HandlerError::retryable)?;
//!         if idempotency::first_delivery(&mut tx, "user.on-registered", event.id)
//!             .await
//!             .map_err(HandlerError::retryable)?
//!         {
//!             // ... create the profile, in `tx` ...
//!         }
//!         tx.commit().await.map_err(HandlerError::retryable)
//!     }
//! }
//! ```

use sqlx::PgConnection;
use uuid::Uuid;

/// Records that `consumer` is applying `event_id`; true on the first delivery, false when it
/// was applied before (then skip the effect). Call it inside the effect's transaction, so a
/// rollback forgets the event too.
pub async fn first_delivery(
    conn: &mut PgConnection,
    consumer: &str,
    event_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "insert into processed_events (consumer, event_id) values ($1, $2) \
         on conflict do nothing",
    )
    .bind(consumer)
    .bind(event_id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}
