//! What a service implements to consume events, what it is given, and how it is called.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use rdkafka::Message as _;
use rdkafka::message::OwnedMessage;
use uuid::Uuid;

use crate::wire::{self, header_str};

/// One event as received: the record's identity and its decoded headers. The payload is the
/// protobuf bytes; the handler decodes them according to `event_type`.
#[derive(Debug, Clone)]
pub struct ReceivedEvent {
    /// From the `event-id` header: the key to deduplicate on
    /// ([`first_delivery`](crate::idempotency::first_delivery)).
    pub id: Uuid,
    /// From the `event-type` header, e.g. `user.registered.v1`.
    pub event_type: String,
    /// The aggregate id the record was keyed by, if it had a key.
    pub key: Option<String>,
    pub payload: Vec<u8>,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

impl ReceivedEvent {
    /// The event in `message`, or why it is not one (it then goes to the dead-letter topic:
    /// without an id it could never be handled idempotently).
    pub(crate) fn from_message(message: &OwnedMessage) -> Result<Self, String> {
        let headers = message.headers();
        let id = header_str(headers, wire::EVENT_ID)
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or_else(|| format!("no valid {} header", wire::EVENT_ID))?;
        let event_type = header_str(headers, wire::EVENT_TYPE)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| format!("no {} header", wire::EVENT_TYPE))?;
        Ok(Self {
            id,
            event_type: event_type.to_owned(),
            key: message
                .key()
                .map(|key| String::from_utf8_lossy(key).into_owned()),
            payload: message.payload().unwrap_or_default().to_vec(),
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
        })
    }
}

/// Why a handler did not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// It may work on another attempt (a database or peer unavailable, a timeout, a pool
    /// exhausted): the event holds its partition and is retried with capped backoff until it
    /// passes (dead-lettered only after `KAFKA_RETRY_BUDGET`, hours).
    #[error("{0:#}")]
    Retryable(anyhow::Error),
    /// It never will (the payload does not decode, the event contradicts the state): the
    /// event goes to the dead-letter topic at once.
    #[error("{0:#}")]
    Permanent(anyhow::Error),
}

impl HandlerError {
    /// A [`HandlerError::Retryable`], for `map_err`.
    pub fn retryable(error: impl Into<anyhow::Error>) -> Self {
        Self::Retryable(error.into())
    }

    /// A [`HandlerError::Permanent`], for `map_err`.
    pub fn permanent(error: impl Into<anyhow::Error>) -> Self {
        Self::Permanent(error.into())
    }
}

/// An unclassified failure is assumed to be transient: it is retried, and still reaches the
/// dead-letter topic if it never passes within `KAFKA_RETRY_BUDGET`.
impl From<anyhow::Error> for HandlerError {
    fn from(error: anyhow::Error) -> Self {
        Self::Retryable(error)
    }
}

/// Applies events of the topics an [`EventConsumer`](crate::EventConsumer) reads. Shared
/// through an `Arc`; implementations write `async fn handle`.
///
/// The consumer calls it inside a span whose parent is the trace that enqueued the event,
/// and commits the event's offset only after it returned `Ok` (or the event was
/// dead-lettered), so an event may arrive again after a crash: make the effect idempotent
/// with [`first_delivery`](crate::idempotency::first_delivery).
///
/// ```
/// use platform_kafka::{EventHandler, HandlerError, ReceivedEvent};
///
/// struct Log;
///
/// impl EventHandler for Log {
///     async fn handle(&self, event: &ReceivedEvent) -> Result<(), HandlerError> {
///         match event.event_type.as_str() {
///             "user.registered.v1" => Ok(tracing::info!(user = ?event.key, "registered")),
///             other => Err(HandlerError::permanent(anyhow::anyhow!("unknown event type {other}"))),
///         }
///     }
/// }
/// ```
pub trait EventHandler: Send + Sync + 'static {
    fn handle(
        &self,
        event: &ReceivedEvent,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// The span an event is handled in: a child of the trace that enqueued the event.
pub(super) fn event_span(event: &ReceivedEvent, headers: &http::HeaderMap) -> tracing::Span {
    let span = tracing::info_span!(
        "process event",
        otel.kind = "consumer",
        messaging.system = "kafka",
        messaging.destination.name = %event.topic,
        messaging.kafka.partition = event.partition,
        messaging.kafka.offset = event.offset,
        event_id = %event.id,
        event_type = %event.event_type,
    );
    platform_telemetry::context::extract(headers, &span);
    span
}

/// Runs the handler once, under the request id that enqueued the event, if any. A panic
/// counts as a failed attempt rather than killing the consumer.
pub(super) async fn call<H: EventHandler>(
    handler: &H,
    event: &ReceivedEvent,
    request_id: Option<String>,
) -> Result<(), HandlerError> {
    let attempt = AssertUnwindSafe(handler.handle(event)).catch_unwind();
    let outcome = match request_id {
        Some(id) => platform_telemetry::context::with_request_id(id, attempt).await,
        None => attempt.await,
    };
    outcome.unwrap_or_else(|panic| {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(HandlerError::Retryable(anyhow::anyhow!(
            "the handler panicked: {reason}"
        )))
    })
}
