//! `media.uploaded` → one media job.

use std::sync::Arc;

use anyhow::anyhow;
use platform_kafka::{EventHandler, HandlerError, ReceivedEvent};
use platform_proto::events::v1::MediaUploaded;
use prost::Message as _;

use crate::service::{Jobs, MediaJob};

/// The topic of uploaded originals.
pub const MEDIA_UPLOADED: &str = "media.uploaded";
const MEDIA_UPLOADED_V1: &str = "media.uploaded.v1";

/// Media ids become object keys: at most this long, and only `[A-Za-z0-9_-]`.
const MAX_ID_LEN: usize = 128;

/// Hands each `media.uploaded` event to [`Jobs`]. An event that can never be a job (another
/// type, a payload that does not decode, an id unfit for a key) goes to the dead-letter topic
/// at once; a job that failed for want of storage or Kafka is retried.
pub struct UploadHandler {
    jobs: Arc<Jobs>,
}

impl UploadHandler {
    pub fn new(jobs: Arc<Jobs>) -> Self {
        Self { jobs }
    }
}

impl EventHandler for UploadHandler {
    async fn handle(&self, event: &ReceivedEvent) -> Result<(), HandlerError> {
        let job = job(event).map_err(|reason| HandlerError::permanent(anyhow!(reason)))?;
        self.jobs.run(&job).await.map_err(HandlerError::retryable)
    }
}

fn job(event: &ReceivedEvent) -> Result<MediaJob, String> {
    if event.event_type != MEDIA_UPLOADED_V1 {
        return Err(format!("unexpected event type {}", event.event_type));
    }
    let uploaded = MediaUploaded::decode(event.payload.as_slice())
        .map_err(|e| format!("not a MediaUploaded: {e}"))?;
    if !is_plain_id(&uploaded.media_id) {
        return Err(format!(
            "media id {:?} is not a plain id",
            uploaded.media_id
        ));
    }
    if uploaded.owner_id.is_empty() || uploaded.object_key.is_empty() {
        return Err("the event names no owner or no original".to_owned());
    }
    Ok(MediaJob {
        cause: event.id,
        media_id: uploaded.media_id,
        owner_id: uploaded.owner_id,
        content_type: uploaded.content_type,
        object_key: uploaded.object_key,
    })
}

/// Whether `id` can go into an object key as one path segment, as is.
fn is_plain_id(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn event(event_type: &str, payload: Vec<u8>) -> ReceivedEvent {
        ReceivedEvent {
            id: Uuid::nil(),
            event_type: event_type.to_owned(),
            key: Some("eu_1".to_owned()),
            payload,
            topic: MEDIA_UPLOADED.to_owned(),
            partition: 0,
            offset: 0,
        }
    }

    fn uploaded(media_id: &str) -> Vec<u8> {
        MediaUploaded {
            media_id: media_id.to_owned(),
            owner_id: "eu_1".to_owned(),
            content_type: "image/png".to_owned(),
            object_key: format!("originals/{media_id}"),
            ..MediaUploaded::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn an_upload_becomes_a_job_caused_by_its_event() {
        let job = job(&event(MEDIA_UPLOADED_V1, uploaded("0192f0c1-7a"))).unwrap();
        assert_eq!(job.media_id, "0192f0c1-7a");
        assert_eq!(job.object_key, "originals/0192f0c1-7a");
        assert_eq!(job.cause, Uuid::nil());
    }

    #[test]
    fn ids_that_would_reach_outside_their_folder_are_refused() {
        for id in ["", "../originals", "a/b", &"x".repeat(129)] {
            let err = job(&event(MEDIA_UPLOADED_V1, uploaded(id))).unwrap_err();
            assert!(err.contains("not a plain id"), "{id:?}: {err}");
        }
    }

    #[test]
    fn other_types_and_payloads_are_refused_with_the_reason() {
        let err = job(&event("media.uploaded.v2", uploaded("m1"))).unwrap_err();
        assert!(err.contains("media.uploaded.v2"), "{err}");
        let err = job(&event(MEDIA_UPLOADED_V1, b"\xff not protobuf".to_vec())).unwrap_err();
        assert!(err.starts_with("not a MediaUploaded"), "{err}");
    }
}
