//! The events media publishes, as outbox rows. Written in the transaction of the change they
//! announce; the outbox relay publishes them. Topic, type and key come from each payload's
//! `platform_kafka::Event` impl.

use platform_proto::events::v1::MediaUploaded;

use crate::service::Media;

/// `media.uploaded`, keyed by the owner so one user's events stay in order.
pub fn media_uploaded(media: &Media) -> MediaUploaded {
    MediaUploaded {
        media_id: media.id.to_string(),
        owner_id: media.owner_id.clone(),
        content_type: media.content_type.clone(),
        object_key: media.object_key.clone(),
        size_bytes: media.size_bytes,
        uploaded_at: Some(std::time::SystemTime::from(media.created_at).into()),
    }
}
