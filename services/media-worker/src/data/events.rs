//! The `media.processed` publisher: the worker's one effect besides the stored variants.
//!
//! The worker has no database, so there is no outbox: the event is published, and
//! acknowledged, before the offset of the `media.uploaded` event that caused it is committed.
//! Its id is derived from that event's id, so a job redone after a crash publishes the *same*
//! event again and the media service applies it once.

use platform_kafka::{Event as _, EventProducer};
use platform_proto::events::v1::{
    MediaFailed, MediaProcessed, MediaReady, StoredVariant as WireVariant, media_processed,
};
use prost::Message as _;
use uuid::Uuid;

use super::StoredVariant;
use crate::WorkerError;

/// Which media an outcome is about, and which event caused the job.
#[derive(Debug, Clone, Copy)]
pub struct MediaRef<'a> {
    pub media_id: &'a str,
    /// The record key, so one user's events stay in order.
    pub owner_id: &'a str,
    /// The id of the `media.uploaded` event.
    pub cause: Uuid,
}

/// How a job ended: both are results, published for the media service to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The variants are stored; `width`×`height` is the original as displayed.
    Ready {
        width: u32,
        height: u32,
        variants: Vec<StoredVariant>,
    },
    /// The media will never be ready: `reason` is a stable code, `message` is for people.
    Failed {
        reason: &'static str,
        message: String,
    },
}

impl Outcome {
    /// `ready` or `failed`, for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Ready { .. } => "ready",
            Self::Failed { .. } => "failed",
        }
    }
}

/// Publishes outcomes to `media.processed`. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ProcessedEvents {
    producer: EventProducer,
}

impl ProcessedEvents {
    pub fn new(producer: EventProducer) -> Self {
        Self { producer }
    }

    /// Publishes `outcome` and waits for Kafka's acknowledgement, within the delivery
    /// timeout.
    pub async fn publish(&self, media: MediaRef<'_>, outcome: &Outcome) -> Result<(), WorkerError> {
        self.publish_event(media, &payload(media, outcome)).await
    }

    /// Publishes an outcome encoded earlier by [`encode`] (kept by a previous run of the job).
    /// It decodes to the same event, so it is published byte for byte as it was kept.
    pub async fn publish_encoded(
        &self,
        media: MediaRef<'_>,
        payload: Vec<u8>,
    ) -> Result<(), WorkerError> {
        let processed = MediaProcessed::decode(payload.as_slice())?;
        self.publish_event(media, &processed).await
    }

    /// Publishes `processed` under the id derived from the event that caused the job.
    async fn publish_event(
        &self,
        media: MediaRef<'_>,
        processed: &MediaProcessed,
    ) -> Result<(), WorkerError> {
        let id = Uuid::new_v5(&media.cause, MediaProcessed::TOPIC.as_bytes());
        Ok(self.producer.publish_event(id, processed).await?)
    }
}

/// The `media.processed` payload of `outcome`, as published.
pub fn encode(media: MediaRef<'_>, outcome: &Outcome) -> Vec<u8> {
    payload(media, outcome).encode_to_vec()
}

fn payload(media: MediaRef<'_>, outcome: &Outcome) -> MediaProcessed {
    let outcome = match outcome {
        Outcome::Ready {
            width,
            height,
            variants,
        } => media_processed::Outcome::Ready(MediaReady {
            width: *width,
            height: *height,
            variants: variants.iter().map(wire_variant).collect(),
        }),
        Outcome::Failed { reason, message } => media_processed::Outcome::Failed(MediaFailed {
            reason: (*reason).to_owned(),
            message: message.clone(),
        }),
    };
    MediaProcessed {
        media_id: media.media_id.to_owned(),
        owner_id: media.owner_id.to_owned(),
        outcome: Some(outcome),
    }
}

fn wire_variant(variant: &StoredVariant) -> WireVariant {
    WireVariant {
        name: variant.name.to_owned(),
        width: variant.width,
        height: variant.height,
        content_type: variant.content_type.to_owned(),
        object_key: variant.object_key.clone(),
        size_bytes: variant.size_bytes,
        etag: variant.etag.clone(),
    }
}
