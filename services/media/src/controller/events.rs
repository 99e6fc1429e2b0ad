//! Kafka controllers: each turns an event into a service call, the way a gRPC controller
//! turns a request into one.

use std::sync::Arc;

use platform_kafka::{Delivery, EventHandler, HandlerError};
use platform_proto::events::v1::{MediaProcessed, StoredVariant, media_processed};

use crate::MediaError;
use crate::service::{MediaLibrary, Outcome, Variant};

/// `media.processed` → the media `ready` with its variants, or `failed` with the reason.
pub struct ProcessedHandler {
    library: Arc<MediaLibrary>,
}

impl ProcessedHandler {
    pub fn new(library: Arc<MediaLibrary>) -> Self {
        Self { library }
    }
}

impl EventHandler for ProcessedHandler {
    type Event = MediaProcessed;

    async fn handle(&self, delivery: &Delivery<MediaProcessed>) -> Result<(), HandlerError> {
        let processed = &delivery.event;
        let outcome = match processed.outcome.clone() {
            Some(media_processed::Outcome::Ready(ready)) => Outcome::Ready {
                width: ready.width,
                height: ready.height,
                variants: ready.variants.into_iter().map(variant).collect(),
            },
            Some(media_processed::Outcome::Failed(failed)) => Outcome::Failed {
                error: format!("{}: {}", failed.reason, failed.message),
            },
            None => {
                return Err(HandlerError::permanent(anyhow::anyhow!(
                    "a MediaProcessed without an outcome"
                )));
            }
        };
        self.library
            .record_outcome(delivery.idempotency_token(), &processed.media_id, outcome)
            .await
            .map_err(|e| match e {
                // Retrying cannot make an unknown media exist or a malformed event valid.
                MediaError::NotFound
                | MediaError::VariantNotFound
                | MediaError::InvalidInput(_)
                | MediaError::TooLarge { .. }
                | MediaError::UploadInterrupted(_) => HandlerError::permanent(e),
                // (A full backlog refuses uploads only; were it met here, it would pass.)
                MediaError::DependencyTimeout(_)
                | MediaError::DependencyUnavailable(_)
                | MediaError::BacklogFull { .. }
                | MediaError::Unexpected(_) => HandlerError::retryable(e),
            })
    }
}

fn variant(stored: StoredVariant) -> Variant {
    Variant {
        name: stored.name,
        width: stored.width,
        height: stored.height,
        content_type: stored.content_type,
        size_bytes: stored.size_bytes,
        object_key: stored.object_key,
        etag: stored.etag,
    }
}
