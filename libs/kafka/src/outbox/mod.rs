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
//! use platform_kafka::outbox::{enqueue, OutboxEvent};
//!
//! # async fn register(pool: &sqlx::PgPool, relay: &platform_kafka::OutboxRelay) -> Result<(), sqlx::Error> {
//! let user_id = uuid::Uuid::now_v7();
//! // Every statement under the client-side deadline, as `enqueue` runs its own.
//! let mut tx = platform_postgres::bounded(pool.begin()).await?;
//! // ... insert the user ...
//! let event = OutboxEvent {
//!     topic: "user.registered".into(),
//!     key: user_id.to_string(),
//!     event_type: "user.registered.v1".into(),
//!     payload: vec![/* UserRegistered { .. }.encode_to_vec() */],
//! };
//! enqueue(&mut tx, &event).await?;
//! platform_postgres::bounded(tx.commit()).await?;
//! relay.wake(); // publish now rather than at the next poll
//! # Ok(()) }
//! ```

mod relay;

pub use relay::{OutboxRelay, PRUNE_LOCK_KEY};

use sqlx::PgConnection;
use uuid::Uuid;

/// An event to publish, as the service describes it.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    /// e.g. `user.registered`
    pub topic: String,
    /// The aggregate id (the user id): one key's events stay in order on one partition.
    pub key: String,
    /// The payload's type and version, e.g. `user.registered.v1`.
    pub event_type: String,
    /// The protobuf-encoded payload.
    pub payload: Vec<u8>,
}

/// Writes `event` to the outbox on `conn`, which should be inside the transaction that makes
/// the state change. Captures the current trace context (and request id) so the consumer's
/// work joins this trace. Returns the event id.
#[tracing::instrument(skip_all, fields(topic = %event.topic, event_type = %event.event_type))]
pub async fn enqueue(conn: &mut PgConnection, event: &OutboxEvent) -> Result<Uuid, sqlx::Error> {
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
        .bind(&event.topic)
        .bind(&event.key)
        .bind(&event.event_type)
        .bind(&event.payload)
        .bind(serde_json::Value::Object(headers).to_string())
        .execute(conn),
    )
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use platform_postgres::{Failure, classify};

    use super::*;
    use crate::test_support::transaction_on_a_server_about_to_fall_silent;

    #[tokio::test]
    async fn enqueue_gives_up_on_a_server_that_stopped_answering() {
        let (proxy, _pool, mut tx) = transaction_on_a_server_about_to_fall_silent().await;
        proxy.silence();

        let error = tokio::time::timeout(
            Duration::from_secs(10),
            enqueue(
                &mut tx,
                &OutboxEvent {
                    topic: "test".into(),
                    key: "k".into(),
                    event_type: "test.v1".into(),
                    payload: vec![],
                },
            ),
        )
        .await
        .expect("the statement deadline fires, not the test's")
        .unwrap_err();
        assert_eq!(classify(&error), Failure::Timeout, "{error}");
    }
}
