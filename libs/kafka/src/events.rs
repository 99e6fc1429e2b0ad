//! The platform's events: each payload of `platform_proto::events::v1` names here, once, its
//! topic, its versioned type and its key.
//!
//! Publishers ([`outbox::enqueue`](crate::outbox::enqueue),
//! [`EventProducer::publish_event`](crate::EventProducer::publish_event)) and handlers
//! ([`EventHandler`](crate::EventHandler)) work with the typed payload; the topic, the
//! `event-type` header and the record key all come from its [`Event`] impl. [`TOPICS`] is every
//! topic, for whatever must create them (the embedded broker, test harnesses).
//!
//! Adding an event: a message in `proto/events/v1/`, an `impl Event` below, its topic in
//! [`TOPICS`] (docs/guides/adding-an-event.md).

use platform_proto::events::v1::{MediaProcessed, MediaUploaded, UserRegistered};

/// A protobuf payload that is an event: where it goes and how it is told apart.
///
/// ```
/// use platform_kafka::Event;
/// use platform_proto::events::v1::UserRegistered;
///
/// let registered = UserRegistered { user_id: "eu_0192".into(), ..Default::default() };
/// assert_eq!(UserRegistered::TOPIC, "user.registered");
/// assert_eq!(UserRegistered::TYPE, "user.registered.v1");
/// assert_eq!(registered.key(), "eu_0192");
/// ```
pub trait Event: prost::Message + Default + Send + Sync + 'static {
    /// The topic it is published to, e.g. `user.registered`.
    const TOPIC: &'static str;
    /// The payload's type and version, sent as the `event-type` header, e.g.
    /// `user.registered.v1`. A consumer refuses (dead-letters) any other type on its topic.
    const TYPE: &'static str;
    /// The record key: the aggregate id (the user id), so one user's events share a partition
    /// and stay in order.
    fn key(&self) -> &str;
}

/// Every topic of the platform (each has a dead-letter topic `<topic>.dlq` besides).
///
/// ```
/// use platform_kafka::Event as _;
/// use platform_proto::events::v1::UserRegistered;
///
/// assert!(platform_kafka::events::TOPICS.contains(&UserRegistered::TOPIC));
/// ```
pub const TOPICS: &[&str] = &[
    UserRegistered::TOPIC,
    MediaUploaded::TOPIC,
    MediaProcessed::TOPIC,
];

/// A user signed up (auth, through its outbox).
impl Event for UserRegistered {
    const TOPIC: &'static str = "user.registered";
    const TYPE: &'static str = "user.registered.v1";

    fn key(&self) -> &str {
        &self.user_id
    }
}

/// An original is stored and waits to be processed (media, through its outbox).
impl Event for MediaUploaded {
    const TOPIC: &'static str = "media.uploaded";
    const TYPE: &'static str = "media.uploaded.v1";

    fn key(&self) -> &str {
        &self.owner_id
    }
}

/// The worker is done with a media, one way or the other (media-worker, directly).
impl Event for MediaProcessed {
    const TOPIC: &'static str = "media.processed";
    const TYPE: &'static str = "media.processed.v1";

    fn key(&self) -> &str {
        &self.owner_id
    }
}
