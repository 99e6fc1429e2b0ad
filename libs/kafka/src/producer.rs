//! The idempotent producer behind the outbox relay and the dead-letter path.
//!
//! A service with a database does not publish with it directly: it
//! [`enqueue`](crate::outbox::enqueue)s events in its own transaction and the
//! [`OutboxRelay`](crate::OutboxRelay) publishes them. A consumer with no state of its own (the
//! media worker) publishes its result with [`EventProducer::publish_event`] before it
//! commits the offset of the event that caused it.

use std::future::Future;
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::future_producer::Delivery;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use rdkafka::types::RDKafkaErrorCode;

use tracing::Instrument as _;
use uuid::Uuid;

use crate::{Event, KafkaSettings};

/// librdkafka reports a timed-out message itself; this much longer we wait for that report
/// before giving up on it, in case the report never comes.
const REPORT_GRACE: Duration = Duration::from_secs(1);

/// A Kafka producer with idempotence on (`acks=all`, no duplicates or reordering from its own
/// retries) and a delivery deadline, so a publish fails within the deadline instead of
/// hanging when the cluster is unreachable. Cheap to clone.
#[derive(Clone)]
pub struct EventProducer {
    inner: FutureProducer,
    delivery_timeout: Duration,
}

impl std::fmt::Debug for EventProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventProducer")
            .field("delivery_timeout", &self.delivery_timeout)
            .finish_non_exhaustive()
    }
}

/// One record as it goes on the wire.
#[derive(Debug)]
pub struct Record<'a> {
    pub topic: &'a str,
    pub key: Option<&'a [u8]>,
    pub payload: &'a [u8],
    pub headers: OwnedHeaders,
}

/// Why a record was not published. Either way it may still reach the topic later (a timed-out
/// send can land after all), which is why consumers deduplicate.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("Kafka did not confirm delivery to {topic} within {timeout:?}")]
    TimedOut { topic: String, timeout: Duration },
    #[error("publishing to {topic} failed")]
    Failed {
        topic: String,
        #[source]
        source: KafkaError,
    },
}

impl EventProducer {
    /// Creates the producer. It connects lazily: an unreachable cluster shows up as failed
    /// deliveries, not here.
    ///
    /// ```no_run
    /// # fn run(settings: &platform_kafka::KafkaSettings) -> anyhow::Result<()> {
    /// let producer = platform_kafka::EventProducer::new(settings)?;
    /// # Ok(()) }
    /// ```
    pub fn new(settings: &KafkaSettings) -> anyhow::Result<Self> {
        let timeout_ms = settings.delivery_timeout.as_millis().to_string();
        let inner = ClientConfig::new()
            .set("bootstrap.servers", settings.bootstrap_servers()?)
            .set("client.id", &settings.client_id)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", &timeout_ms)
            .create()
            .context("creating the Kafka producer")?;
        Ok(Self {
            inner,
            delivery_timeout: settings.delivery_timeout,
        })
    }

    /// Queues `record` now and returns a future of its delivery report. Records queued in
    /// order reach their partition in that order.
    pub fn publish(
        &self,
        record: Record<'_>,
    ) -> impl Future<Output = Result<Delivery, PublishError>> + Send + 'static {
        let topic = record.topic.to_owned();
        let timeout = self.delivery_timeout;
        let mut future_record = FutureRecord::<[u8], [u8]>::to(record.topic)
            .payload(record.payload)
            .headers(record.headers);
        if let Some(key) = record.key {
            future_record = future_record.key(key);
        }
        let queued = self.inner.send_result(future_record).map_err(|(e, _)| e);
        async move {
            let report = queued.map_err(|e| PublishError::new(&topic, e, timeout))?;
            match tokio::time::timeout(timeout + REPORT_GRACE, report).await {
                Ok(Ok(Ok(delivery))) => Ok(delivery),
                Ok(Ok(Err((e, _message)))) => Err(PublishError::new(&topic, e, timeout)),
                Ok(Err(_canceled)) => Err(PublishError::new(&topic, KafkaError::Canceled, timeout)),
                Err(_elapsed) => Err(PublishError::TimedOut { topic, timeout }),
            }
        }
    }

    /// Publishes `event` under the id `id`, in a `publish event` span of the current trace,
    /// and waits for Kafka's acknowledgement (within the delivery timeout).
    ///
    /// For a publisher with no database of its own, whose effect is this event: publish it
    /// before committing the offset of the event being handled, with an id derived from that
    /// event's id (so a redelivery republishes the *same* event, which consumers deduplicate).
    /// A service that changes state of its own uses the outbox instead.
    ///
    /// ```no_run
    /// use platform_kafka::EventProducer;
    /// use platform_proto::events::v1::MediaProcessed;
    /// # async fn run(producer: EventProducer, cause: uuid::Uuid) -> anyhow::Result<()> {
    /// let processed = MediaProcessed { owner_id: "eu_0192…".into(), ..Default::default() };
    /// let id = uuid::Uuid::new_v5(&cause, b"media.processed");
    /// producer.publish_event(id, &processed).await?;
    /// # Ok(()) }
    /// ```
    pub async fn publish_event<E: Event>(&self, id: Uuid, event: &E) -> Result<(), PublishError> {
        let span = tracing::info_span!(
            "publish event",
            otel.kind = "producer",
            messaging.system = "kafka",
            messaging.destination.name = E::TOPIC,
            event_id = %id,
            event_type = E::TYPE,
        );
        let mut context = http::HeaderMap::new();
        span.in_scope(|| platform_telemetry::context::inject(&mut context));
        let payload = event.encode_to_vec();
        let record = Record {
            topic: E::TOPIC,
            key: Some(event.key().as_bytes()),
            payload: &payload,
            headers: crate::wire::event_headers(&id.to_string(), E::TYPE, &context),
        };
        self.publish(record).instrument(span).await.map(|_| ())
    }

    /// The id of the cluster this producer talks to, as of its last metadata (`None` before
    /// any). A broker that lost its log comes back as another cluster: see
    /// [`OutboxRelay`](crate::OutboxRelay).
    pub fn cluster_id(&self) -> Option<String> {
        self.inner.client().fetch_cluster_id(Duration::ZERO)
    }

    /// Asks the cluster for `topic`'s metadata (which carries the cluster id), waiting at most
    /// the delivery timeout. Blocks: call it from a blocking thread.
    pub(crate) fn refresh_metadata(&self, topic: &str) -> Result<(), KafkaError> {
        self.inner
            .client()
            .fetch_metadata(Some(topic), self.delivery_timeout)
            .map(|_| ())
    }

    /// The error that made this producer unusable, if any (rare with idempotence: e.g. the
    /// broker lost acknowledged messages). A process that sees one should restart.
    pub fn fatal_error(&self) -> Option<String> {
        self.inner
            .client()
            .fatal_error()
            .map(|(code, reason)| format!("{code}: {reason}"))
    }
}

impl PublishError {
    fn new(topic: &str, source: KafkaError, timeout: Duration) -> Self {
        let topic = topic.to_owned();
        match source.rdkafka_error_code() {
            Some(RDKafkaErrorCode::MessageTimedOut) => Self::TimedOut { topic, timeout },
            _ => Self::Failed { topic, source },
        }
    }
}
