//! Kafka controllers: each turns an event into a service call, the way a gRPC controller
//! turns a request into one.

use std::sync::Arc;

use platform_kafka::{Delivery, EventHandler, HandlerError};
use platform_proto::events::v1::UserRegistered;

use crate::UserError;
use crate::service::{NewProfile, Profiles};

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
    type Event = UserRegistered;

    async fn handle(&self, delivery: &Delivery<UserRegistered>) -> Result<(), HandlerError> {
        let registered = &delivery.event;
        let profile = NewProfile {
            id: registered.user_id.clone(),
            email: registered.email.clone(),
            display_name: registered.display_name.clone(),
            region: registered.region.clone(),
        };
        self.profiles
            .create(delivery.idempotency_token(), profile)
            .await
            .map_err(|e| match e {
                // Retrying cannot fix a malformed id or a region we do not serve.
                UserError::InvalidInput(_) | UserError::NotFound => {
                    HandlerError::permanent(anyhow::anyhow!("{e}"))
                }
                UserError::ShardUnavailable(_)
                | UserError::ShardTimeout(_)
                | UserError::Unexpected(_) => HandlerError::retryable(anyhow::anyhow!("{e}")),
            })
    }
}
