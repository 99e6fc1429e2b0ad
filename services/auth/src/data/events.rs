//! The events auth publishes, as outbox rows. Written in the transaction of the change they
//! announce; the outbox relay publishes them.

use platform_kafka::OutboxEvent;
use platform_proto::events::v1::UserRegistered;
use prost::Message as _;

use crate::data::NewCredential;

pub const USER_REGISTERED: &str = "user.registered";

/// `user.registered`, keyed by the user id so one user's events stay in order.
pub fn user_registered(credential: &NewCredential<'_>, display_name: &str) -> OutboxEvent {
    let now = std::time::SystemTime::now();
    let payload = UserRegistered {
        user_id: credential.user_id.to_owned(),
        email: credential.email.to_owned(),
        display_name: display_name.to_owned(),
        region: credential.region.to_owned(),
        registered_at: Some(now.into()),
    };
    OutboxEvent {
        topic: USER_REGISTERED.to_owned(),
        key: credential.user_id.to_owned(),
        event_type: "user.registered.v1".to_owned(),
        payload: payload.encode_to_vec(),
    }
}
