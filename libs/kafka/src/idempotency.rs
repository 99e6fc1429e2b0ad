//! Applying each event once although Kafka may deliver it more than once.
//!
//! A handler records the event id in `processed_events` in the same transaction as its
//! effect: the first delivery inserts the row and applies the effect; a redelivery finds the
//! row, skips the effect, and is acknowledged all the same.
//!
//! The table (`libs/kafka/sql/0002_processed_events.sql`; copy it into the service's migrations,
//! where `tests/kafka/schema.rs` checks that the copy still makes this table):
//!
//! ```sql
#![doc = include_str!("../sql/0002_processed_events.sql")]
//! ```
//!
//! ```no_run
//! use platform_kafka::{idempotency, EventHandler, HandlerError, ReceivedEvent};
//! use platform_postgres::bounded;
//!
//! struct OnUserRegistered { pool: sqlx::PgPool }
//!
//! impl EventHandler for OnUserRegistered {
//!     async fn handle(&self, event: &ReceivedEvent) -> Result<(), HandlerError> {
//!         // Every statement under the client-side deadline, as `first_delivery` runs its own.
//!         let mut tx = bounded(self.pool.begin()).await.map_err(HandlerError::retryable)?;
//!         if idempotency::first_delivery(&mut tx, "user.on-registered", event.id)
//!             .await
//!             .map_err(HandlerError::retryable)?
//!         {
//!             // ... create the profile, in `tx` ...
//!         }
//!         bounded(tx.commit()).await.map_err(HandlerError::retryable)
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
    let inserted = platform_postgres::bounded(
        sqlx::query(
            "insert into processed_events (consumer, event_id) values ($1, $2) \
             on conflict do nothing",
        )
        .bind(consumer)
        .bind(event_id)
        .execute(conn),
    )
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use platform_postgres::{Failure, classify};

    use super::*;
    use crate::test_support::transaction_on_a_server_about_to_fall_silent;

    #[tokio::test]
    async fn first_delivery_gives_up_on_a_server_that_stopped_answering() {
        let (proxy, _pool, mut tx) = transaction_on_a_server_about_to_fall_silent().await;
        proxy.silence();

        let error = tokio::time::timeout(
            Duration::from_secs(10),
            first_delivery(&mut tx, "test", Uuid::new_v4()),
        )
        .await
        .expect("the statement deadline fires, not the test's")
        .unwrap_err();
        assert_eq!(classify(&error), Failure::Timeout, "{error}");
    }
}
