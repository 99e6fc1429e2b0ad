//! The record a failed event becomes on its dead-letter topic.

use rdkafka::Message as _;
use rdkafka::message::{OwnedHeaders, OwnedMessage};

use crate::producer::Record;
use crate::wire::{self, dead_letter_topic, with_header};

/// The longest `dlq-error` header we send; handler errors can be long (a payload dump).
const MAX_ERROR_HEADER: usize = 4096;

/// A dead-letter record, built once; each publish attempt sends a copy.
pub(super) struct DeadLetter<'a> {
    pub(super) topic: String,
    message: &'a OwnedMessage,
    headers: OwnedHeaders,
}

impl DeadLetter<'_> {
    pub(super) fn as_record(&self) -> Record<'_> {
        Record {
            topic: &self.topic,
            key: self.message.key(),
            payload: self.message.payload().unwrap_or_default(),
            headers: self.headers.clone(),
        }
    }
}

/// `message` for `<topic>.dlq`: its key, payload and headers, plus why and where it failed.
pub(super) fn record<'a>(message: &'a OwnedMessage, error: &str, attempts: u32) -> DeadLetter<'a> {
    let mut headers = message.headers().cloned().unwrap_or_default();
    for (name, value) in [
        (
            wire::DLQ_ERROR,
            truncate(error, MAX_ERROR_HEADER).to_owned(),
        ),
        (wire::DLQ_ATTEMPTS, attempts.to_string()),
        (wire::DLQ_ORIGINAL_TOPIC, message.topic().to_owned()),
        (
            wire::DLQ_ORIGINAL_PARTITION,
            message.partition().to_string(),
        ),
        (wire::DLQ_ORIGINAL_OFFSET, message.offset().to_string()),
    ] {
        headers = with_header(headers, name, &value);
    }
    DeadLetter {
        topic: dead_letter_topic(message.topic()),
        message,
        headers,
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_errors_are_cut_at_a_character_boundary() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("short", 4096), "short");
    }
}
