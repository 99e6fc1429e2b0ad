//! The transactional outbox: how a service publishes an event.
//!
//! The event is written to the `outbox` table in the same transaction as the state change
//! ([`enqueue`]), so it exists exactly when the change does; the [`OutboxRelay`] publishes it
//! afterwards and marks it sent. A crash between commit and publish loses nothing: the row
//! waits for the next relay. A crash between publish and marking republishes the event once
//! more, which is why every event carries an id and consumers deduplicate on it.
//!
//! The table (`libs/kafka/sql/0001_outbox.sql`; copy it into the service's migrations,
//! where `tests/kafka/schema.rs` checks that the copy still makes this table):
//!
//! ```sql
#![doc = include_str!("../../sql/0001_outbox.sql")]
//! ```
//!
//! ```no_run
//! use platform_kafka::outbox::enqueue;
//! use platform_proto::events::v1::UserRegistered;
//!
//! # async fn register(pool: &sqlx::PgPool, relay: &platform_kafka::OutboxRelay) -> Result<(), sqlx::Error> {
//! let user_id = "eu_0192f0c1".to_owned();
//! // Every statement under the client-side deadline, as `enqueue` runs its own.
//! let mut tx = platform_postgres::bounded(pool.begin()).await?;
//! // ... insert the user ...
//! // Topic, type and key come from the payload's `Event` impl.
//! enqueue(&mut tx, &UserRegistered { user_id, ..Default::default() }).await?;
//! platform_postgres::bounded(tx.commit()).await?;
//! relay.wake(); // publish now rather than at the next poll
//! # Ok(()) }
//! ```

mod relay;

pub use relay::{OutboxRelay, PRUNE_LOCK_KEY};

use sqlx::PgConnection;
use uuid::Uuid;

use crate::Event;

/// Writes `event` to the outbox on `conn`, which should be inside the transaction that makes
/// the state change: its topic, key (`event.key()`), type and protobuf payload, and the
/// current trace context (and request id) so the consumer's work joins this trace. Returns
/// the event id.
#[tracing::instrument(skip_all, fields(topic = E::TOPIC, event_type = E::TYPE))]
pub async fn enqueue<E: Event>(conn: &mut PgConnection, event: &E) -> Result<Uuid, sqlx::Error> {
    // Version 7: ordered by creation within the process, so the relay's `order by created_at,
    // id` keeps the order of events enqueued in one transaction (which share `created_at`).
    let id = Uuid::now_v7();
    let headers: serde_json::Map<_, _> = crate::wire::current_context()
        .into_iter()
        .map(|(name, value)| (name, serde_json::Value::String(value)))
        .collect();
    platform_postgres::bounded(
        sqlx::query(
            "insert into outbox (id, topic, key, event_type, payload, headers) \
             values ($1, $2, $3, $4, $5, $6::jsonb)",
        )
        .bind(id)
        .bind(E::TOPIC)
        .bind(event.key())
        .bind(E::TYPE)
        .bind(event.encode_to_vec())
        .bind(serde_json::Value::Object(headers).to_string())
        .execute(conn),
    )
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use platform_proto::events::v1::UserRegistered;

    use super::*;
    use crate::test_support::{assert_gives_up, transaction_on_a_server_about_to_fall_silent};

    #[tokio::test]
    async fn enqueue_gives_up_on_a_server_that_stopped_answering() {
        let (proxy, _pool, mut tx) = transaction_on_a_server_about_to_fall_silent().await;
        proxy.silence();
        assert_gives_up(enqueue(&mut tx, &UserRegistered::default())).await;
    }
}
