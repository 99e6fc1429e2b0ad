//! `media.uploaded` → one media job.

use std::sync::Arc;

use anyhow::anyhow;
use platform_kafka::{Delivery, EventHandler, HandlerError};
use platform_proto::events::v1::MediaUploaded;

use crate::service::{Jobs, MediaJob};

/// Media ids become object keys: at most this long, and only `[A-Za-z0-9_-]`.
const MAX_ID_LEN: usize = 128;

/// Hands each `media.uploaded` event to [`Jobs`]. An event that can never be a job (an id
/// unfit for a key, no owner; another type or a payload that does not decode never reaches
/// here) goes to the dead-letter topic at once; a job that failed for want of storage or
/// Kafka is retried.
pub struct UploadHandler {
    jobs: Arc<Jobs>,
}

impl UploadHandler {
    pub fn new(jobs: Arc<Jobs>) -> Self {
        Self { jobs }
    }
}

impl EventHandler for UploadHandler {
    type Event = MediaUploaded;

    async fn handle(&self, delivery: &Delivery<MediaUploaded>) -> Result<(), HandlerError> {
        let job = job(delivery).map_err(|reason| HandlerError::permanent(anyhow!(reason)))?;
        self.jobs.run(&job).await.map_err(HandlerError::retryable)
    }
}

fn job(delivery: &Delivery<MediaUploaded>) -> Result<MediaJob, String> {
    let uploaded = &delivery.event;
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
        cause: delivery.id,
        media_id: uploaded.media_id.clone(),
        owner_id: uploaded.owner_id.clone(),
        content_type: uploaded.content_type.clone(),
        object_key: uploaded.object_key.clone(),
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

    fn delivery(media_id: &str) -> Delivery<MediaUploaded> {
        Delivery {
            event: MediaUploaded {
                media_id: media_id.to_owned(),
                owner_id: "eu_1".to_owned(),
                content_type: "image/png".to_owned(),
                object_key: format!("originals/{media_id}"),
                ..MediaUploaded::default()
            },
            id: Uuid::nil(),
            key: Some("eu_1".to_owned()),
            partition: 0,
            offset: 0,
        }
    }

    #[test]
    fn an_upload_becomes_a_job_caused_by_its_event() {
        let job = job(&delivery("0192f0c1-7a")).unwrap();
        assert_eq!(job.media_id, "0192f0c1-7a");
        assert_eq!(job.object_key, "originals/0192f0c1-7a");
        assert_eq!(job.cause, Uuid::nil());
    }

    #[test]
    fn ids_that_would_reach_outside_their_folder_are_refused() {
        for id in ["", "../originals", "a/b", &"x".repeat(129)] {
            let err = job(&delivery(id)).unwrap_err();
            assert!(err.contains("not a plain id"), "{id:?}: {err}");
        }
    }

    // Other event types and payloads that do not decode are refused before the handler:
    // `platform_kafka`'s `other_types_and_payloads_are_refused_with_the_reason`.
}
