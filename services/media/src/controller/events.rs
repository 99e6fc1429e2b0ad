//! Kafka controllers: each turns an event into a service call, the way a gRPC controller
//! turns a request into one.

use std::sync::Arc;

use platform_kafka::{EventHandler, HandlerError, ReceivedEvent};
use platform_proto::events::v1::{MediaProcessed, StoredVariant, media_processed};
use prost::Message as _;

use crate::MediaError;
use crate::data::{Outcome, Variant};
use crate::service::MediaLibrary;

/// The topic whose events settle a media's processing.
pub const MEDIA_PROCESSED: &str = "media.processed";

/// The consumer name under which applied events are recorded.
const CONSUMER: &str = "media.processed";

const EVENT_TYPE: &str = "media.processed.v1";

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
    async fn handle(&self, event: &ReceivedEvent) -> Result<(), HandlerError> {
        if event.event_type != EVENT_TYPE {
            return Err(HandlerError::permanent(anyhow::anyhow!(
                "unexpected event type {}",
                event.event_type
            )));
        }
        let processed = MediaProcessed::decode(event.payload.as_slice())
            .map_err(|e| HandlerError::permanent(anyhow::anyhow!("not a MediaProcessed: {e}")))?;
        let outcome = match processed.outcome {
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
            .record_outcome(CONSUMER, event.id, &processed.media_id, outcome)
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
