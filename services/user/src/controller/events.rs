//! Kafka controllers: each turns an event into a service call, the way a gRPC controller
//! turns a request into one.

use std::sync::Arc;

use platform_kafka::{EventHandler, HandlerError, ReceivedEvent};
use platform_proto::events::v1::UserRegistered;
use prost::Message as _;

use crate::UserError;
use crate::data::NewProfile;
use crate::service::Profiles;

/// The consumer name under which applied events are recorded.
const CONSUMER: &str = "user.registered";

/// `user.registered` → the user's profile, in their home shard.
pub struct RegistrationHandler {
    profiles: Arc<Profiles>,
}

impl RegistrationHandler {
    pub fn new(profiles: Arc<Profiles>) -> Self {
        Self { profiles }
    }
}

impl EventHandler for RegistrationHandler {
    async fn handle(&self, event: &ReceivedEvent) -> Result<(), HandlerError> {
        let registered = UserRegistered::decode(event.payload.as_slice())
            .map_err(|e| HandlerError::permanent(anyhow::anyhow!("not a UserRegistered: {e}")))?;
        let profile = NewProfile {
            id: registered.user_id,
            email: registered.email,
            display_name: registered.display_name,
            region: registered.region,
        };
        self.profiles
            .create(CONSUMER, event.id, profile)
            .await
            .map_err(|e| match e {
                // Retrying cannot fix a malformed id or a region we do not serve.
                // (Creating a profile never asks the media service; its errors are listed so
                // that a new error kind must be placed here deliberately.)
                UserError::InvalidInput(_)
                | UserError::NotFound
                | UserError::MediaNotFound
                | UserError::MediaNotYours
                | UserError::MediaNotReady => HandlerError::permanent(anyhow::anyhow!("{e}")),
                UserError::ShardUnavailable(_)
                | UserError::ShardTimeout(_)
                | UserError::MediaUnavailable
                | UserError::MediaTimeout
                | UserError::Unexpected(_) => HandlerError::retryable(anyhow::anyhow!("{e}")),
            })
    }
}
