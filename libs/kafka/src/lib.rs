//! Events over Kafka: one way to publish them and one way to consume them.
//!
//! - An event is a protobuf payload of `platform_proto::events::v1` that names its topic, type
//!   and key once, in its [`Event`] impl ([`events`], which also lists every topic in
//!   [`events::TOPICS`]). Everything below takes the typed payload.
//! - Publishing is the transactional outbox: a service [`outbox::enqueue`]s an event in the
//!   transaction that changes its state, and an [`OutboxRelay`] publishes it with an
//!   idempotent producer. Nothing committed is lost when Kafka or the process is down.
//! - Consuming is an [`EventConsumer`] of one event type in the service's consumer group,
//!   calling an [`EventHandler`] with each [`Delivery`], decoded and type-checked. Offsets are
//!   committed after the handler succeeded. An event that can never apply goes to the
//!   dead-letter topic `<topic>.dlq` at once; one that fails transiently holds only its own
//!   partition and is retried with capped backoff until it passes. Handlers apply each event
//!   once with the delivery's [`idempotency::Token`].
//! - [`EmbeddedKafka`] is a broker inside the process, for tests and the native run.
//! - [`dead_letters`]: what is in the dead-letter topics can be listed and re-driven
//!   ([`DeadLetters`], the `dead-letters` subcommand of each consuming service) and is
//!   counted ([`DeadLetterGauge`]).
//!
//! Events on the wire (see [`wire`]): key = the aggregate id, value = protobuf bytes, headers
//! `event-id`, `event-type` and the W3C trace context, so a consumer's work joins the trace of
//! the request that caused the event. Settings come from `KAFKA_*` variables ([`KafkaSettings`]).
//!
//! Metrics:
//! - `kafka_outbox_published_total{topic}`, `kafka_outbox_failed_total{topic}`: deliveries by
//!   the relay, acknowledged or not.
//! - `kafka_outbox_pending`: rows not yet published (refreshed every 15 s).
//! - `kafka_consumer_messages_total{topic,outcome}`: `ok`, `retried` (per retry),
//!   `dead_lettered`.
//! - `kafka_consumer_lag{topic,partition}`: records not yet committed by the group (every 15 s).
//! - `kafka_dead_letters_waiting{topic}`: records of a dead-letter topic not yet re-driven or
//!   discarded (every 30 s, by [`DeadLetterGauge`]).
//! - `kafka_consumer_partition_stalled_seconds{topic,partition}`: how long a held event has
//!   kept its partition waiting (0 when none is).
//! - `kafka_consumer_assigned_partitions{topic}`: partitions this member holds.
//! - `kafka_consumer_group_lag{topic,partition}`, `kafka_consumer_group_committed_offset{..}`:
//!   the whole group's progress on every partition, sampled every 15 s by every member.
//!
//! ```no_run
//! use std::sync::Arc;
//! use platform_config::Env;
//! use platform_kafka::{
//!     EmbeddedKafka, EventConsumer, EventProducer, KafkaSettings, OutboxRelay, events,
//! };
//! use platform_proto::events::v1::MediaProcessed;
//! # struct Handler;
//! # impl platform_kafka::EventHandler for Handler {
//! #     type Event = MediaProcessed;
//! #     async fn handle(&self, _: &platform_kafka::Delivery<MediaProcessed>) -> Result<(), platform_kafka::HandlerError> { Ok(()) }
//! # }
//!
//! # async fn run(pool: sqlx::PgPool, lifecycle: platform_runtime::Lifecycle) -> anyhow::Result<()> {
//! let mut settings = KafkaSettings::from_env(&Env::from_process(), "media")?;
//! let mut _embedded = None;
//! if settings.brokers.is_none() {
//!     let kafka = EmbeddedKafka::start(events::TOPICS)?;
//!     settings = settings.with_brokers(kafka.bootstrap_servers());
//!     _embedded = Some(kafka); // the broker lives as long as this value
//! }
//! let relay = OutboxRelay::new(pool, EventProducer::new(&settings)?, &settings);
//! lifecycle.spawn("outbox-relay", move |stop| relay.run(stop));
//! let consumer = EventConsumer::<MediaProcessed>::new(&settings)?;
//! lifecycle.spawn("consumer", move |stop| consumer.run(Arc::new(Handler), stop));
//! # Ok(()) }
//! ```

mod consumer;
pub mod dead_letters;
mod embedded;
pub mod events;
pub mod idempotency;
pub mod outbox;
mod producer;
mod retry;
mod settings;
#[cfg(test)]
mod test_support;
pub mod wire;

pub use consumer::{Delivery, EventConsumer, EventHandler, HandlerError};
pub use dead_letters::{
    DEAD_LETTERS_COMMAND, DeadLetter, DeadLetterError, DeadLetterGauge, DeadLetters, Selection,
};
pub use embedded::{EMBEDDED_PARTITIONS, EmbeddedKafka};
pub use events::Event;
pub use outbox::OutboxRelay;
pub use producer::{EventProducer, PublishError, Record};
pub use settings::KafkaSettings;
