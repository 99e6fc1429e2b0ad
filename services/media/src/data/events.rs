//! The events media publishes, as outbox rows. Written in the transaction of the change they
//! announce; the outbox relay publishes them.

use platform_kafka::OutboxEvent;
use platform_proto::events::v1::MediaUploaded;
use prost::Message as _;

use crate::data::Media;

pub const MEDIA_UPLOADED: &str = "media.uploaded";

/// `media.uploaded`, keyed by the owner so one user's events stay in order.
pub fn media_uploaded(media: &Media) -> OutboxEvent {
    let payload = MediaUploaded {
        media_id: media.id.to_string(),
        owner_id: media.owner_id.clone(),
        content_type: media.content_type.clone(),
        object_key: media.object_key.clone(),
        size_bytes: media.size_bytes,
        uploaded_at: Some(std::time::SystemTime::from(media.created_at).into()),
    };
    OutboxEvent {
        topic: MEDIA_UPLOADED.to_owned(),
        key: media.owner_id.clone(),
        event_type: "media.uploaded.v1".to_owned(),
        payload: payload.encode_to_vec(),
    }
}
