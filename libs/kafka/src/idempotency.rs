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
//! A handler's [`Delivery`](crate::Delivery) carries its [`Token`]: the service passes the
//! token down to the transaction that applies the event, and nothing else about Kafka.
//!
//! ```no_run
//! use platform_kafka::{Delivery, EventHandler, HandlerError};
//! use platform_postgres::bounded;
//! use platform_proto::events::v1::UserRegistered;
//!
//! struct OnUserRegistered { pool: sqlx::PgPool }
//!
//! impl EventHandler for OnUserRegistered {
//!     type Event = UserRegistered;
//!
//!     async fn handle(&self, delivery: &Delivery<UserRegistered>) -> Result<(), HandlerError> {
//!         // Every statement under the client-side deadline, as `first_delivery` runs its own.
//!         let mut tx = bounded(self.pool.begin()).await.map_err(HandlerError::retryable)?;
//!         if delivery
//!             .idempotency_token()
//!             .first_delivery(&mut tx)
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

/// Which event a consumer is applying: the consumer's name (the topic: a service applies each
/// topic's events once, in its own database) and the event id. Given by
/// [`Delivery::idempotency_token`](crate::Delivery::idempotency_token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    consumer: &'static str,
    event_id: Uuid,
}

impl Token {
    pub(crate) fn new(consumer: &'static str, event_id: Uuid) -> Self {
        Self { consumer, event_id }
    }

    /// The id of the event being applied, for logs.
    pub fn event_id(&self) -> Uuid {
        self.event_id
    }

    /// Records that this event is being applied; true on the first delivery, false when it
    /// was applied before (then skip the effect). Call it inside the effect's transaction, so
    /// a rollback forgets the event too.
    pub async fn first_delivery(&self, conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
        let inserted = platform_postgres::bounded(
            sqlx::query(
                "insert into processed_events (consumer, event_id) values ($1, $2) \
                 on conflict do nothing",
            )
            .bind(self.consumer)
            .bind(self.event_id)
            .execute(conn),
        )
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{assert_gives_up, transaction_on_a_server_about_to_fall_silent};

    #[tokio::test]
    async fn first_delivery_gives_up_on_a_server_that_stopped_answering() {
        let (proxy, _pool, mut tx) = transaction_on_a_server_about_to_fall_silent().await;
        proxy.silence();
        assert_gives_up(Token::new("test", Uuid::new_v4()).first_delivery(&mut tx)).await;
    }
}
