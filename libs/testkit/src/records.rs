//! Reading the Kafka records a test collected (e.g. with `EmbeddedKafka::records`): their
//! headers, event id, key and decoded payload.

use rdkafka::Message as _;
use rdkafka::message::{Headers as _, OwnedMessage};
use uuid::Uuid;

/// The header every platform event carries its id in (`platform_kafka::wire::EVENT_ID`).
const EVENT_ID: &str = "event-id";

/// The value of header `name`, as text.
///
/// ```no_run
/// # fn t(record: &rdkafka::message::OwnedMessage) {
/// let event_type = platform_testkit::header(record, "event-type");
/// # let _ = event_type;
/// # }
/// ```
pub fn header(record: &OwnedMessage, name: &str) -> Option<String> {
    record
        .headers()?
        .iter()
        .find(|h| h.key == name)
        .and_then(|h| Some(String::from_utf8_lossy(h.value?).into_owned()))
}

/// The record's event id (its `event-id` header), if it has a well-formed one.
///
/// ```no_run
/// # fn t(record: &rdkafka::message::OwnedMessage) {
/// let id = platform_testkit::event_id(record).expect("every event has an id");
/// # let _ = id;
/// # }
/// ```
pub fn event_id(record: &OwnedMessage) -> Option<Uuid> {
    header(record, EVENT_ID)?.parse().ok()
}

/// The record's key, as text. Panics on an unkeyed record: every platform event is keyed.
pub fn key(record: &OwnedMessage) -> String {
    String::from_utf8_lossy(record.key().expect("events are keyed")).into_owned()
}

/// The record's payload decoded as `T`. Panics when it is not one.
///
/// ```no_run
/// # #[derive(Clone, PartialEq, prost::Message)] struct Note {}
/// # fn t(record: &rdkafka::message::OwnedMessage) {
/// let note: Note = platform_testkit::decode(record);
/// # }
/// ```
pub fn decode<T: prost::Message + Default>(record: &OwnedMessage) -> T {
    T::decode(record.payload().unwrap_or_default()).unwrap_or_else(|e| {
        panic!(
            "a record of {} is not a {}: {e}",
            record.topic(),
            std::any::type_name::<T>()
        )
    })
}
