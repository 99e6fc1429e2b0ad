//! How a service consumes events: one consumer in the service's group, one message at a time,
//! offsets committed after the effect. A permanent failure goes to the dead-letter topic at
//! once; a transient one holds only its own partition (paused) and is retried with capped
//! backoff until it passes, while the other partitions keep flowing.

mod context;
mod dead_letter;
mod handler;
mod progress;

pub use handler::{Delivery, EventHandler, HandlerError};

use handler::ReceivedEvent;

use handler::{call, event_span};

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{ClientConfig, Message as _, Offset, TopicPartitionList};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use self::context::ConsumerMetrics;
use crate::producer::EventProducer;
use crate::retry::{backoff, capped_backoff, sleep_or_stop};
use crate::wire::header_map;
use crate::{Event, KafkaSettings};

/// How long leaving the group may take at shutdown before we stop waiting for it.
const CLOSE_DEADLINE: Duration = Duration::from_secs(5);
/// The longest wait between two attempts at a held event: once its dependency is back, the
/// partition moves again within this.
const MAX_HANDLER_BACKOFF: Duration = Duration::from_secs(10);

/// A consumer in the service's consumer group (`KAFKA_CONSUMER_GROUP`) of the events `E`, on
/// their topic `E::TOPIC`.
///
/// It hands each event, decoded, to an [`EventHandler`] of `E`, one at a time (replicas share
/// the partitions), and commits the offset only once the handler succeeded. What happens on failure depends on
/// the [`HandlerError`]:
///
/// - [`HandlerError::Permanent`] (and a record without a valid `event-id` or `event-type`
///   header, of another type than `E::TYPE`, or whose payload does not decode): the event is published at once to `<topic>.dlq` with its key, payload and
///   headers plus `dlq-error`, `dlq-attempts` and `dlq-original-{topic,partition,offset}`;
///   then its offset is committed and the partition moves on.
/// - [`HandlerError::Retryable`]: the event's partition is paused, so only it waits, and the
///   event is retried with exponential backoff and jitter (from `KAFKA_RETRY_BACKOFF`, capped
///   at 10 s) until it passes; the other partitions keep being consumed meanwhile. Only after
///   `KAFKA_RETRY_BUDGET` (hours, by default a day) is it dead-lettered; long before, the
///   `kafka_consumer_partition_stalled_seconds` gauge raises an alert.
///
/// ```no_run
/// use std::sync::Arc;
/// use platform_kafka::{Delivery, EventConsumer, EventHandler, HandlerError, KafkaSettings};
/// use platform_proto::events::v1::MediaProcessed;
///
/// struct OnMediaProcessed;
/// impl EventHandler for OnMediaProcessed {
///     type Event = MediaProcessed;
///     async fn handle(&self, _: &Delivery<MediaProcessed>) -> Result<(), HandlerError> { Ok(()) }
/// }
///
/// # fn build(settings: &KafkaSettings, lifecycle: &platform_runtime::Lifecycle) -> anyhow::Result<()> {
/// let consumer = EventConsumer::<MediaProcessed>::new(settings)?;
/// let handler = Arc::new(OnMediaProcessed);
/// lifecycle.spawn("media-processed-consumer", move |stop| consumer.run(handler, stop));
/// # Ok(()) }
/// ```
pub struct EventConsumer<E> {
    consumer: DropOffThread<StreamConsumer<ConsumerMetrics>>,
    dead_letters: EventProducer,
    settings: KafkaSettings,
    topics: Vec<String>,
    event: PhantomData<fn() -> E>,
}

impl<E> std::fmt::Debug for EventConsumer<E> {
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

/// What one attempt at a message came to.
enum Attempt {
    Settled(Settled),
    /// A transient failure: try again later, holding the partition.
    Failed(HandlerError),
}

/// A (topic, partition).
type PartitionKey = (String, i32);

/// An event that failed transiently, holding its (paused) partition until it passes.
struct Held {
    message: OwnedMessage,
    event: ReceivedEvent,
    span: tracing::Span,
    request_id: Option<String>,
    attempts: u32,
    since: Instant,
    next_try: Instant,
}

impl<E: Event> EventConsumer<E> {
    /// Creates the consumer and subscribes it to `E::TOPIC`; it joins the group when it runs.
    pub fn new(settings: &KafkaSettings) -> anyhow::Result<Self> {
        let topics = &[E::TOPIC];
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
            .create_with_context(ConsumerMetrics::new(topics))
            .context("creating the Kafka consumer")?;
        consumer
            .subscribe(topics)
            .with_context(|| format!("subscribing to {topics:?}"))?;
        Ok(Self {
            consumer: DropOffThread(Some(consumer)),
            dead_letters: EventProducer::new(settings)?,
            settings: settings.clone(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            event: PhantomData,
        })
    }

    /// Consumes until `stop` is cancelled, then leaves the group. The message in hand is
    /// finished first; held events (waiting for a retry) are left uncommitted and are
    /// delivered again later. Fails only on a fatal client error. Meanwhile it samples the
    /// whole group's progress (`kafka_consumer_group_lag`, see `progress.rs`).
    pub async fn run<H: EventHandler<Event = E>>(
        self,
        handler: Arc<H>,
        stop: CancellationToken,
    ) -> anyhow::Result<()> {
        let sampling = stop.child_token();
        let progress = tokio::spawn(progress::report(
            self.settings.clone(),
            self.topics.clone(),
            sampling.clone(),
        ));
        let outcome = self.consume_until(&*handler, &stop).await;
        sampling.cancel();
        let _ = progress.await;
        self.close().await;
        outcome
    }

    async fn consume_until<H: EventHandler>(
        &self,
        handler: &H,
        stop: &CancellationToken,
    ) -> anyhow::Result<()> {
        let mut held: HashMap<PartitionKey, Held> = HashMap::new();
        loop {
            let next_retry = held.values().map(|h| h.next_try).min();
            let received = tokio::select! {
                biased;
                () = stop.cancelled() => return Ok(()),
                () = sleep_until(next_retry) => {
                    if let Settled::Interrupted = self.retry_due(handler, &mut held, stop).await {
                        return Ok(());
                    }
                    continue;
                }
                received = self.consumer.recv() => received,
            };
            let message = match received {
                Ok(message) => message.detach(),
                Err(e) => {
                    if let Some((code, reason)) = self.consumer.client().fatal_error() {
                        anyhow::bail!("the Kafka consumer failed for good: {code}: {reason}");
                    }
                    // Anything else is librdkafka telling us about a connection it is already
                    // re-establishing. Polling on is what lets it rejoin the group (a member
                    // that stops polling never gets its assignment): no backoff here, which
                    // once kept a consumer away from a restarted broker for good.
                    tracing::warn!(error = %e, "receiving from Kafka failed; the client reconnects");
                    continue;
                }
            };
            let key = (message.topic().to_owned(), message.partition());
            if held.contains_key(&key) {
                // Fetched before the pause took effect: it is read again after the held event
                // passes (we seek back then), so it is neither handled nor committed now.
                continue;
            }
            if let Some(held_event) = self.first_attempt(handler, message, stop).await {
                self.pause(&key);
                held.insert(key, held_event);
            }
        }
    }

    /// Handles a newly received message once: settles it (commits), or returns it to hold.
    async fn first_attempt<H: EventHandler>(
        &self,
        handler: &H,
        message: OwnedMessage,
        stop: &CancellationToken,
    ) -> Option<Held> {
        let event = match ReceivedEvent::from_message(&message) {
            Ok(event) => event,
            Err(reason) => {
                if let Settled::Yes = self.dead_letter(&message, &reason, 0, stop).await {
                    self.commit(&message);
                }
                return None;
            }
        };
        let headers = header_map(message.headers());
        let span = event_span(&event, &headers);
        let request_id = platform_telemetry::context::request_id_from(&headers);
        let now = Instant::now();
        let mut held = Held {
            message,
            event,
            span,
            request_id,
            attempts: 0,
            since: now,
            next_try: now,
        };
        match self.attempt(handler, &mut held, stop).await {
            Attempt::Settled(Settled::Yes) => {
                self.commit(&held.message);
                None
            }
            Attempt::Settled(Settled::Interrupted) => None,
            Attempt::Failed(error) => {
                self.schedule_retry(&mut held, &error);
                Some(held)
            }
        }
    }

    /// Retries the held event whose time has come; releases its partition once it settles.
    async fn retry_due<H: EventHandler>(
        &self,
        handler: &H,
        held: &mut HashMap<PartitionKey, Held>,
        stop: &CancellationToken,
    ) -> Settled {
        let Some(key) = held
            .iter()
            .min_by_key(|(_, h)| h.next_try)
            .map(|(key, _)| key.clone())
        else {
            return Settled::Yes;
        };
        if !self.is_assigned(&key) {
            // A rebalance gave the partition to another member, which reads the event again.
            held.remove(&key);
            stalled_gauge(&key).set(0.0);
            return Settled::Yes;
        }
        let Some(entry) = held.get_mut(&key) else {
            return Settled::Yes;
        };
        match self.attempt(handler, entry, stop).await {
            Attempt::Settled(Settled::Interrupted) => Settled::Interrupted,
            Attempt::Settled(Settled::Yes) => {
                if let Some(done) = held.remove(&key) {
                    self.release(&key, &done);
                }
                Settled::Yes
            }
            Attempt::Failed(error) => {
                self.schedule_retry(entry, &error);
                Settled::Yes
            }
        }
    }

    /// One call of the handler. A permanent failure, or a transient one past the retry
    /// budget, is dead-lettered here; a transient one within the budget is returned.
    async fn attempt<H: EventHandler>(
        &self,
        handler: &H,
        held: &mut Held,
        stop: &CancellationToken,
    ) -> Attempt {
        held.attempts += 1;
        let outcome = call(handler, &held.event, held.request_id.clone())
            .instrument(held.span.clone())
            .await;
        let error = match outcome {
            Ok(()) => {
                count(&held.event.topic, "ok");
                return Attempt::Settled(Settled::Yes);
            }
            Err(error) => error,
        };
        let reason = match &error {
            HandlerError::Permanent(_) => error.to_string(),
            HandlerError::Retryable(_) if held.since.elapsed() >= self.settings.retry_budget => {
                format!(
                    "still failing after {:?} (KAFKA_RETRY_BUDGET): {error}",
                    self.settings.retry_budget
                )
            }
            HandlerError::Retryable(_) => return Attempt::Failed(error),
        };
        let settled = self
            .dead_letter(&held.message, &reason, held.attempts, stop)
            .instrument(held.span.clone())
            .await;
        Attempt::Settled(settled)
    }

    fn schedule_retry(&self, held: &mut Held, error: &HandlerError) {
        count(&held.event.topic, "retried");
        let delay = capped_backoff(
            self.settings.retry_backoff,
            held.attempts,
            MAX_HANDLER_BACKOFF,
        );
        held.next_try = Instant::now() + delay;
        let stalled = held.since.elapsed();
        stalled_gauge(&(held.event.topic.clone(), held.event.partition)).set(stalled.as_secs_f64());
        held.span.in_scope(|| {
            tracing::warn!(
                attempts = held.attempts,
                stalled_for = ?stalled,
                retry_in = ?delay,
                error = %error,
                "event handler failed; its partition waits and the event is retried"
            );
        });
    }

    /// Pauses `key`'s partition while its event is held.
    fn pause(&self, key: &PartitionKey) {
        let mut partitions = TopicPartitionList::with_capacity(1);
        partitions.add_partition(&key.0, key.1);
        if let Err(e) = self.consumer.pause(&partitions) {
            tracing::warn!(error = %e, topic = key.0, partition = key.1, "pausing a partition failed");
        }
    }

    /// Commits the held event, resumes its partition and reads on from the record after it
    /// (records fetched while it was held were skipped, not handled).
    fn release(&self, key: &PartitionKey, done: &Held) {
        self.commit(&done.message);
        stalled_gauge(key).set(0.0);
        let mut partitions = TopicPartitionList::with_capacity(1);
        partitions.add_partition(&key.0, key.1);
        let next = Offset::Offset(done.message.offset() + 1);
        let resumed = self
            .consumer
            .resume(&partitions)
            .and_then(|()| self.consumer.seek(&key.0, key.1, next, Duration::ZERO));
        if let Err(e) = resumed {
            tracing::warn!(error = %e, topic = key.0, partition = key.1, "resuming a partition failed");
        }
        tracing::info!(
            topic = key.0,
            partition = key.1,
            attempts = done.attempts,
            held_for = ?done.since.elapsed(),
            "a held event passed; its partition moves again"
        );
    }

    /// Whether this member still owns `key`'s partition.
    fn is_assigned(&self, key: &PartitionKey) -> bool {
        match self.consumer.assignment() {
            Ok(assignment) => assignment
                .elements()
                .iter()
                .any(|p| p.topic() == key.0 && p.partition() == key.1),
            // Unknown: keep trying the event rather than drop it.
            Err(_) => true,
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

/// Sleeps until `deadline`, or for ever when there is none.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// `kafka_consumer_partition_stalled_seconds{topic,partition}`: how long a held event has
/// kept its partition from moving (0 when nothing is held).
fn stalled_gauge(key: &PartitionKey) -> metrics::Gauge {
    metrics::gauge!(
        "kafka_consumer_partition_stalled_seconds",
        "topic" => key.0.clone(),
        "partition" => key.1.to_string(),
    )
}

fn count(topic: &str, outcome: &'static str) {
    metrics::counter!("kafka_consumer_messages_total", "topic" => topic.to_owned(), "outcome" => outcome)
        .increment(1);
}
