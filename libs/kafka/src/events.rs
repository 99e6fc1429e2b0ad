//! The platform's events: each payload of `platform_proto::events::v1` declares, once, in
//! its `.proto` (the option `(events.v1.event)` of `proto/events/v1/options.proto`), its
//! topic, its versioned type and its key field. This crate's build script turns each
//! declaration into the payload's [`Event`] impl and into [`TOPICS`], every topic, for
//! whatever must create them (the embedded broker, devstack, the test harnesses).
//!
//! Publishers ([`outbox::enqueue`](crate::outbox::enqueue),
//! [`EventProducer::publish_event`](crate::EventProducer::publish_event)) and handlers
//! ([`EventHandler`](crate::EventHandler)) work with the typed payload; the topic, the
//! `event-type` header and the record key all come from its [`Event`] impl.
//!
//! Adding an event is a message with that option in `proto/events/v1/`
//! (docs/guides/adding-an-event.md); removing one deletes it, and nothing here changes.
//!
//! ```
//! use platform_kafka::Event as _;
//! use platform_proto::events::v1::UserRegistered;
//!
//! assert!(platform_kafka::events::TOPICS.contains(&UserRegistered::TOPIC));
//! ```

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

// The impls and `TOPICS`, written by build.rs from proto/events/v1.
include!(concat!(env!("OUT_DIR"), "/events.rs"));
