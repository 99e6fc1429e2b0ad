//! The events auth publishes, as outbox rows. Written in the transaction of the change they
//! announce; the outbox relay publishes them. Topic, type and key come from each payload's
//! `platform_kafka::Event` impl.

use platform_domain::DisplayName;
use platform_proto::events::v1::UserRegistered;

use crate::data::NewCredential;

/// `user.registered`, keyed by the user id so one user's events stay in order.
pub fn user_registered(
    credential: &NewCredential<'_>,
    display_name: &DisplayName,
) -> UserRegistered {
    let now = std::time::SystemTime::now();
    UserRegistered {
        user_id: credential.user_id.to_string(),
        email: credential.email.to_string(),
        display_name: display_name.to_string(),
        region: credential.region.to_string(),
        registered_at: Some(now.into()),
    }
}
