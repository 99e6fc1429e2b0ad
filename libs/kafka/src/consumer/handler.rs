//! What a service implements to consume events, what it is given, and how it is called.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use rdkafka::Message as _;
use rdkafka::message::OwnedMessage;
use uuid::Uuid;

use crate::Event;
use crate::idempotency::Token;
use crate::wire::{self, header_str};

/// One record as received, its headers read but its payload not yet decoded.
#[derive(Debug, Clone)]
pub(crate) struct ReceivedEvent {
    /// From the `event-id` header.
    pub(crate) id: Uuid,
    /// From the `event-type` header, e.g. `user.registered.v1`.
    pub(crate) event_type: String,
    pub(crate) key: Option<String>,
    pub(crate) payload: Vec<u8>,
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
}

/// An event as a handler gets it: the decoded payload, checked to be of type `E::TYPE`, and
/// where it came from.
#[derive(Debug, Clone)]
pub struct Delivery<E> {
    pub event: E,
    /// From the `event-id` header: unique per event, the same on every redelivery.
    pub id: Uuid,
    /// The aggregate id the record was keyed by, if it had a key.
    pub key: Option<String>,
    pub partition: i32,
    pub offset: i64,
}

impl<E: Event> Delivery<E> {
    /// What makes applying this event idempotent: pass it to the transaction of the effect
    /// ([`Token::first_delivery`]).
    pub fn idempotency_token(&self) -> Token {
        Token::new(E::TOPIC, self.id)
    }

    /// `received` as an `E`, or why it can never be one (a permanent failure: another event
    /// type, or a payload that does not decode).
    pub(crate) fn decode(received: &ReceivedEvent) -> Result<Self, HandlerError> {
        if received.event_type != E::TYPE {
            return Err(HandlerError::permanent(anyhow::anyhow!(
                "unexpected event type {} (expected {})",
                received.event_type,
                E::TYPE
            )));
        }
        let event = E::decode(received.payload.as_slice()).map_err(|e| {
            HandlerError::permanent(anyhow::anyhow!("not a {}: {e}", short_type_name::<E>()))
        })?;
        Ok(Self {
            event,
            id: received.id,
            key: received.key.clone(),
            partition: received.partition,
            offset: received.offset,
        })
    }
}

/// `MediaUploaded` for `platform_proto::events::v1::MediaUploaded`.
fn short_type_name<E>() -> &'static str {
    let name = std::any::type_name::<E>();
    name.rsplit("::").next().unwrap_or(name)
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

/// Applies the events of one type, `Self::Event`, which an
/// [`EventConsumer`](crate::EventConsumer) of that type hands it. Shared through an `Arc`;
/// implementations write `async fn handle`.
///
/// The consumer checks the `event-type` header and decodes the payload first: a record of
/// another type, or one that does not decode, is dead-lettered without reaching the handler's
/// logic. It calls the handler inside a span whose parent is the trace that enqueued the
/// event, and commits the event's offset only after it returned `Ok` (or the event was
/// dead-lettered), so an event may arrive again after a crash: make the effect idempotent
/// with the delivery's [`idempotency_token`](Delivery::idempotency_token).
///
/// ```
/// use platform_kafka::{Delivery, EventHandler, HandlerError};
/// use platform_proto::events::v1::UserRegistered;
///
/// struct Log;
///
/// impl EventHandler for Log {
///     type Event = UserRegistered;
///
///     async fn handle(&self, delivery: &Delivery<UserRegistered>) -> Result<(), HandlerError> {
///         if delivery.event.region.is_empty() {
///             return Err(HandlerError::permanent(anyhow::anyhow!("a user without a region")));
///         }
///         Ok(tracing::info!(user = delivery.event.user_id, "registered"))
///     }
/// }
/// ```
pub trait EventHandler: Send + Sync + 'static {
    /// The event this handler applies; its topic is the one consumed.
    type Event: Event;

    fn handle(
        &self,
        delivery: &Delivery<Self::Event>,
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

/// Decodes the event and runs the handler once, under the request id that enqueued the
/// event, if any. A panic counts as a failed attempt rather than killing the consumer.
pub(super) async fn call<H: EventHandler>(
    handler: &H,
    event: &ReceivedEvent,
    request_id: Option<String>,
) -> Result<(), HandlerError> {
    let delivery = Delivery::<H::Event>::decode(event)?;
    let attempt = AssertUnwindSafe(handler.handle(&delivery)).catch_unwind();
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

#[cfg(test)]
mod tests {
    use platform_proto::events::v1::MediaUploaded;
    use prost::Message as _;

    use super::*;

    fn received(event_type: &str, payload: Vec<u8>) -> ReceivedEvent {
        ReceivedEvent {
            id: Uuid::nil(),
            event_type: event_type.to_owned(),
            key: Some("eu_1".to_owned()),
            payload,
            topic: MediaUploaded::TOPIC.to_owned(),
            partition: 0,
            offset: 0,
        }
    }

    fn uploaded(media_id: &str) -> Vec<u8> {
        MediaUploaded {
            media_id: media_id.to_owned(),
            owner_id: "eu_1".to_owned(),
            ..MediaUploaded::default()
        }
        .encode_to_vec()
    }

    fn decoded(received: &ReceivedEvent) -> Result<Delivery<MediaUploaded>, String> {
        Delivery::decode(received).map_err(|e| match e {
            HandlerError::Permanent(e) => format!("{e:#}"),
            HandlerError::Retryable(e) => panic!("a bad event is not retried: {e:#}"),
        })
    }

    #[test]
    fn an_event_of_its_type_is_decoded_with_where_it_came_from() {
        let delivery = decoded(&received(MediaUploaded::TYPE, uploaded("m1"))).unwrap();
        assert_eq!(delivery.event.media_id, "m1");
        assert_eq!(delivery.id, Uuid::nil());
        assert_eq!(delivery.key.as_deref(), Some("eu_1"));
        assert_eq!(
            delivery.idempotency_token(),
            Token::new(MediaUploaded::TOPIC, Uuid::nil())
        );
    }

    #[test]
    fn other_types_and_payloads_are_refused_with_the_reason() {
        let err = decoded(&received("media.uploaded.v2", uploaded("m1"))).unwrap_err();
        assert!(err.contains("media.uploaded.v2"), "{err}");
        let err = decoded(&received(
            MediaUploaded::TYPE,
            b"\xff not protobuf".to_vec(),
        ))
        .unwrap_err();
        assert!(err.starts_with("not a MediaUploaded"), "{err}");
    }
}
