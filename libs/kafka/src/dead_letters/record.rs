//! A dead-letter record read as a [`DeadLetter`], and the record that re-drives it.

use std::time::{Duration, SystemTime};

use rdkafka::Message as _;
use rdkafka::message::{Header, Headers as _, OwnedHeaders, OwnedMessage};

use super::DeadLetter;
use crate::wire::{self, header_str, with_header};

/// The letter of `message`, a record of the dead-letter topic of `original`.
pub(super) fn letter(message: &OwnedMessage, original: &str, waiting: bool) -> DeadLetter {
    let headers = message.headers();
    let text = |name| header_str(headers, name).map(str::to_owned);
    DeadLetter {
        topic: message.topic().to_owned(),
        partition: message.partition(),
        offset: message.offset(),
        original_topic: text(wire::DLQ_ORIGINAL_TOPIC).unwrap_or_else(|| original.to_owned()),
        original_partition: text(wire::DLQ_ORIGINAL_PARTITION).and_then(|p| p.parse().ok()),
        original_offset: text(wire::DLQ_ORIGINAL_OFFSET).and_then(|o| o.parse().ok()),
        event_id: text(wire::EVENT_ID),
        event_type: text(wire::EVENT_TYPE),
        key: message
            .key()
            .map(|key| String::from_utf8_lossy(key).into_owned()),
        reason: text(wire::DLQ_ERROR).unwrap_or_default(),
        attempts: text(wire::DLQ_ATTEMPTS).and_then(|a| a.parse().ok()),
        dead_lettered_at: message
            .timestamp()
            .to_millis()
            .and_then(|ms| u64::try_from(ms).ok())
            .map(|ms| SystemTime::UNIX_EPOCH + Duration::from_millis(ms)),
        waiting,
    }
}

/// The headers a re-driven record carries: the dead letter's, minus `dlq-*` and any earlier
/// `redriven-from` (an event can be dead-lettered and re-driven more than once), plus
/// `redriven-from: <dlq topic>/<partition>/<offset>`.
pub(super) fn redriven_headers(message: &OwnedMessage) -> OwnedHeaders {
    let mut headers = OwnedHeaders::new();
    for header in message.headers().into_iter().flat_map(|h| h.iter()) {
        if header.key.starts_with("dlq-") || header.key == wire::REDRIVEN_FROM {
            continue;
        }
        headers = headers.insert(Header {
            key: header.key,
            value: header.value,
        });
    }
    let from = format!(
        "{}/{}/{}",
        message.topic(),
        message.partition(),
        message.offset()
    );
    with_header(headers, wire::REDRIVEN_FROM, &from)
}
