//! How a service consumes events: one consumer in the service's group, one message at a time,
//! offsets committed after the effect, failures retried in place and then dead-lettered.

mod context;
mod dead_letter;
mod handler;

pub use handler::{EventHandler, HandlerError, ReceivedEvent};

use handler::{call, event_span};

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{ClientConfig, Message as _, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use self::context::ConsumerMetrics;
use crate::KafkaSettings;
use crate::producer::EventProducer;
use crate::retry::{backoff, sleep_or_stop};
use crate::wire::header_map;

/// How long leaving the group may take at shutdown before we stop waiting for it.
const CLOSE_DEADLINE: Duration = Duration::from_secs(5);

/// A consumer in the service's consumer group (`KAFKA_CONSUMER_GROUP`) for some topics.
///
/// It hands each event to an [`EventHandler`], one at a time (replicas share the partitions),
/// and commits the offset only once the handler succeeded. A failing event is retried in
/// place with exponential backoff and jitter up to `KAFKA_MAX_ATTEMPTS` times (at once for a
/// [`HandlerError::Permanent`]), then published to `<topic>.dlq` with its key, payload and
/// headers plus `dlq-error`, `dlq-attempts` and `dlq-original-{topic,partition,offset}`;
/// then its offset is committed and the partition moves on. A record without a valid
/// `event-id` or `event-type` header is dead-lettered without being handled.
///
/// ```no_run
/// use std::sync::Arc;
/// use platform_kafka::{EventConsumer, EventHandler, HandlerError, KafkaSettings, ReceivedEvent};
///
/// struct OnMediaProcessed;
/// impl EventHandler for OnMediaProcessed {
///     async fn handle(&self, _event: &ReceivedEvent) -> Result<(), HandlerError> { Ok(()) }
/// }
///
/// # fn build(settings: &KafkaSettings, lifecycle: &platform_runtime::Lifecycle) -> anyhow::Result<()> {
/// let consumer = EventConsumer::new(settings, &["media.processed"])?;
/// let handler = Arc::new(OnMediaProcessed);
/// lifecycle.spawn("media-processed-consumer", move |stop| consumer.run(handler, stop));
/// # Ok(()) }
/// ```
pub struct EventConsumer {
    consumer: DropOffThread<StreamConsumer<ConsumerMetrics>>,
    dead_letters: EventProducer,
    settings: KafkaSettings,
}

impl std::fmt::Debug for EventConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventConsumer")
            .field("group", &self.settings.consumer_group)
            .finish_non_exhaustive()
    }
}

/// Whether a message is finished with (its offset may be committed).
enum Settled {
    Yes,
    /// Shutdown came first; the message will be delivered again.
    Interrupted,
}

impl EventConsumer {
    /// Creates the consumer and subscribes it to `topics`; it joins the group when it runs.
    pub fn new(settings: &KafkaSettings, topics: &[&str]) -> anyhow::Result<Self> {
        let session_ms = settings.session_timeout.as_millis();
        let consumer: StreamConsumer<ConsumerMetrics> = ClientConfig::new()
            .set("bootstrap.servers", settings.bootstrap_servers()?)
            .set("client.id", &settings.client_id)
            .set("group.id", &settings.consumer_group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            .set("session.timeout.ms", session_ms.to_string())
            .set("heartbeat.interval.ms", (session_ms / 3).max(1).to_string())
            .set("statistics.interval.ms", context::STATISTICS_INTERVAL_MS)
            .create_with_context(ConsumerMetrics)
            .context("creating the Kafka consumer")?;
        consumer
            .subscribe(topics)
            .with_context(|| format!("subscribing to {topics:?}"))?;
        Ok(Self {
            consumer: DropOffThread(Some(consumer)),
            dead_letters: EventProducer::new(settings)?,
            settings: settings.clone(),
        })
    }

    /// Consumes until `stop` is cancelled, then leaves the group. The message in hand is
    /// finished first unless it is waiting for a retry (it is then redelivered later).
    /// Fails only on a fatal client error.
    pub async fn run<H: EventHandler>(
        self,
        handler: Arc<H>,
        stop: CancellationToken,
    ) -> anyhow::Result<()> {
        let outcome = self.consume_until(&*handler, &stop).await;
        self.close().await;
        outcome
    }

    async fn consume_until<H: EventHandler>(
        &self,
        handler: &H,
        stop: &CancellationToken,
    ) -> anyhow::Result<()> {
        let mut failed_polls = 0;
        loop {
            let received = tokio::select! {
                biased;
                () = stop.cancelled() => return Ok(()),
                received = self.consumer.recv() => received,
            };
            let message = match received {
                Ok(message) => message.detach(),
                Err(e) => {
                    if let Some((code, reason)) = self.consumer.client().fatal_error() {
                        anyhow::bail!("the Kafka consumer failed for good: {code}: {reason}");
                    }
                    failed_polls += 1;
                    tracing::warn!(error = %e, "receiving from Kafka failed");
                    if sleep_or_stop(backoff(self.settings.retry_backoff, failed_polls), stop).await
                    {
                        return Ok(());
                    }
                    continue;
                }
            };
            failed_polls = 0;
            match self.settle(handler, &message, stop).await {
                Settled::Yes => self.commit(&message),
                Settled::Interrupted => return Ok(()),
            }
        }
    }

    /// Handles `message` until it succeeds or is dead-lettered.
    async fn settle<H: EventHandler>(
        &self,
        handler: &H,
        message: &OwnedMessage,
        stop: &CancellationToken,
    ) -> Settled {
        let event = match ReceivedEvent::from_message(message) {
            Ok(event) => event,
            Err(reason) => return self.dead_letter(message, &reason, 0, stop).await,
        };
        let headers = header_map(message.headers());
        let span = event_span(&event, &headers);
        let request_id = platform_telemetry::context::request_id_from(&headers);

        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = call(handler, &event, request_id.clone())
                .instrument(span.clone())
                .await;
            let error = match outcome {
                Ok(()) => {
                    count(&event.topic, "ok");
                    return Settled::Yes;
                }
                Err(error) => error,
            };
            let permanent = matches!(error, HandlerError::Permanent(_));
            if permanent || attempt >= self.settings.max_attempts {
                return self
                    .dead_letter(message, &error.to_string(), attempt, stop)
                    .instrument(span)
                    .await;
            }
            count(&event.topic, "retried");
            span.in_scope(
                || tracing::warn!(attempt, error = %error, "event handler failed; retrying"),
            );
            if sleep_or_stop(backoff(self.settings.retry_backoff, attempt), stop).await {
                return Settled::Interrupted;
            }
        }
    }

    /// Publishes `message` to its dead-letter topic, retrying until Kafka takes it (or stop).
    async fn dead_letter(
        &self,
        message: &OwnedMessage,
        error: &str,
        attempts: u32,
        stop: &CancellationToken,
    ) -> Settled {
        let record = dead_letter::record(message, error, attempts);
        let mut failures = 0;
        loop {
            match self.dead_letters.publish(record.as_record()).await {
                Ok(_) => {
                    count(message.topic(), "dead_lettered");
                    tracing::warn!(
                        topic = message.topic(),
                        partition = message.partition(),
                        offset = message.offset(),
                        attempts,
                        error,
                        "event dead-lettered to {}",
                        record.topic
                    );
                    return Settled::Yes;
                }
                Err(e) => {
                    failures += 1;
                    tracing::error!(error = %e, "dead-lettering failed; the partition waits");
                    if sleep_or_stop(backoff(self.settings.retry_backoff, failures), stop).await {
                        return Settled::Interrupted;
                    }
                }
            }
        }
    }

    /// Commits the offset after `message`, in the background (a lost commit means one
    /// redelivery, which handlers absorb).
    fn commit(&self, message: &OwnedMessage) {
        let mut offsets = TopicPartitionList::with_capacity(1);
        let committed = offsets
            .add_partition_offset(
                message.topic(),
                message.partition(),
                Offset::Offset(message.offset() + 1),
            )
            .and_then(|()| self.consumer.commit(&offsets, CommitMode::Async));
        if let Err(e) = committed {
            tracing::warn!(error = %e, topic = message.topic(), "committing an offset failed");
        }
        // `offsets` is dropped here: a partition list that outlives its consumer makes the
        // consumer's drop hang.
    }

    /// Leaves the group. librdkafka's close blocks (and has been seen to hang), so it runs on
    /// a thread of its own that we stop waiting for after a deadline; a detached thread, not
    /// `spawn_blocking`, so a hang cannot hold up the runtime's own shutdown.
    async fn close(self) {
        let (closed, done) = tokio::sync::oneshot::channel();
        let Self {
            consumer,
            dead_letters,
            ..
        } = self;
        let consumer = consumer.into_inner();
        let spawned = std::thread::Builder::new()
            .name("kafka-consumer-close".to_owned())
            .spawn(move || {
                drop(consumer);
                drop(dead_letters);
                let _ = closed.send(());
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start a thread to close the Kafka consumer");
            return;
        }
        match tokio::time::timeout(CLOSE_DEADLINE, done).await {
            Ok(_) => tracing::info!("Kafka consumer closed"),
            Err(_) => tracing::warn!("the Kafka consumer did not close within {CLOSE_DEADLINE:?}"),
        }
    }
}

/// Owns a librdkafka client whose destructor may block without a bound (destroying a
/// consumer waits for the group protocol with no timeout; seen to hang when the consumer is
/// dropped mid-join). [`EventConsumer::close`] takes the client out and closes it with a
/// deadline; on any other path (the consuming future dropped by a runtime that shuts down,
/// a panic) this drops it on a detached thread, so the caller's thread never blocks.
struct DropOffThread<T: Send + 'static>(Option<T>);

impl<T: Send + 'static> DropOffThread<T> {
    fn into_inner(mut self) -> T {
        self.0
            .take()
            .expect("the client is present until taken once")
    }
}

impl<T: Send + 'static> std::ops::Deref for DropOffThread<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0
            .as_ref()
            .expect("the client is present until taken once")
    }
}

impl<T: Send + 'static> Drop for DropOffThread<T> {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            let spawned = std::thread::Builder::new()
                .name("kafka-client-drop".to_owned())
                .spawn(move || drop(client));
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "cannot start a thread to drop a Kafka client; it was dropped here");
            }
        }
    }
}

fn count(topic: &str, outcome: &'static str) {
    metrics::counter!("kafka_consumer_messages_total", "topic" => topic.to_owned(), "outcome" => outcome)
        .increment(1);
}
