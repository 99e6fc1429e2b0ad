//! What an event looks like on the wire: the header names, the dead-letter topic name, and
//! the trace context carried in headers.
//!
//! A record's key is the aggregate id (the user id), so one user's events share a partition
//! and stay in order; its value is the protobuf-encoded payload. Headers:
//!
//! | header | value |
//! |---|---|
//! | `event-id` | a UUID, unique per event; consumers deduplicate on it |
//! | `event-type` | the payload's type and version, e.g. `user.registered.v1` |
//! | `traceparent`, `tracestate` | the W3C trace context of the code that enqueued the event |
//! | `x-request-id` | the request that enqueued the event, when there was one |
//!
//! A dead-lettered record keeps all of those and adds the `dlq-*` headers below.
//! A re-driven one (see [`dead_letters`](crate::dead_letters)) loses them again and carries
//! `redriven-from`.

use http::{HeaderMap, HeaderName, HeaderValue};
use rdkafka::message::{Header, Headers as _, OwnedHeaders};

pub const EVENT_ID: &str = "event-id";
pub const EVENT_TYPE: &str = "event-type";
/// Why the record was dead-lettered: the handler's error with its causes.
pub const DLQ_ERROR: &str = "dlq-error";
/// How many times the handler ran before giving up (0 if the record was never handled).
pub const DLQ_ATTEMPTS: &str = "dlq-attempts";
pub const DLQ_ORIGINAL_TOPIC: &str = "dlq-original-topic";
pub const DLQ_ORIGINAL_PARTITION: &str = "dlq-original-partition";
pub const DLQ_ORIGINAL_OFFSET: &str = "dlq-original-offset";
/// On a record re-driven from a dead-letter topic: `<dlq topic>/<partition>/<offset>`.
pub const REDRIVEN_FROM: &str = "redriven-from";

/// The dead-letter topic of `topic`: `<topic>.dlq`.
///
/// ```
/// assert_eq!(platform_kafka::wire::dead_letter_topic("user.registered"), "user.registered.dlq");
/// ```
pub fn dead_letter_topic(topic: &str) -> String {
    format!("{topic}.dlq")
}

/// The current span's trace context and the current request id, as header pairs.
pub(crate) fn current_context() -> Vec<(String, String)> {
    let mut headers = HeaderMap::new();
    platform_telemetry::context::inject(&mut headers);
    headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect()
}

/// The headers of a received record as an [`HeaderMap`], so the platform's context helpers
/// read them as they read HTTP and gRPC headers. Headers that are not valid there are left out.
pub(crate) fn header_map(headers: Option<&OwnedHeaders>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for header in headers.into_iter().flat_map(|h| h.iter()) {
        let Some(value) = header.value else { continue };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(header.key.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            map.append(name, value);
        }
    }
    map
}

/// The last value of header `name` as text, if present and UTF-8.
pub(crate) fn header_str<'a>(headers: Option<&'a OwnedHeaders>, name: &str) -> Option<&'a str> {
    headers?
        .iter()
        .filter(|h| h.key == name)
        .last()
        .and_then(|h| std::str::from_utf8(h.value?).ok())
}

/// The headers of an event record: `event-id`, `event-type`, then the trace context and
/// request id in `context`.
pub(crate) fn event_headers(id: &str, event_type: &str, context: &HeaderMap) -> OwnedHeaders {
    let mut headers = OwnedHeaders::new_with_capacity(2 + context.len());
    headers = with_header(headers, EVENT_ID, id);
    headers = with_header(headers, EVENT_TYPE, event_type);
    for (name, value) in context {
        if let Ok(value) = value.to_str() {
            headers = with_header(headers, name.as_str(), value);
        }
    }
    headers
}

/// `headers` with `name: value` appended.
pub(crate) fn with_header(headers: OwnedHeaders, name: &str, value: &str) -> OwnedHeaders {
    headers.insert(Header {
        key: name,
        value: Some(value),
    })
}
