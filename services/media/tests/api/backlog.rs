//! The upload backlog is bounded: while `max_pending_uploads` media wait for the worker, a
//! new upload is refused (UNAVAILABLE, `UPLOAD_BACKLOG_FULL`, with a retry delay) before any
//! of its bytes is read, and nothing of it is kept. Once the worker settles one, uploads are
//! taken again.

use std::time::Duration;

use futures::StreamExt as _;
use platform_proto::events::v1::{MediaFailed, MediaProcessed, media_processed};
use platform_proto::media::v1::MediaStatus;
use tonic::Code;
use tonic_types::StatusExt as _;
use uuid::Uuid;

use crate::helpers::{PNG_HEAD, TestMedia, chunk, metadata, png, spawn_media_with, upload_of};
use platform_testkit::eventually;

async fn spawn_with_backlog_of(max_pending: u32) -> TestMedia {
    spawn_media_with(|settings| settings.max_pending_uploads = max_pending).await
}

fn assert_backlog_full(status: &tonic::Status) {
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(
        status.message(),
        "too many uploads are waiting to be processed; retry later"
    );
    let details = status.get_error_details();
    assert_eq!(details.error_info().unwrap().reason, "UPLOAD_BACKLOG_FULL");
    assert_eq!(
        details.retry_info().and_then(|info| info.retry_delay),
        Some(Duration::from_secs(10))
    );
}

#[tokio::test]
async fn with_two_uploads_pending_a_third_is_refused_before_its_bytes_are_read() {
    let media = spawn_with_backlog_of(2).await;
    media.upload_png("eu_owner", 10_000).await;
    media.upload_png("eu_owner", 10_000).await;
    let stored = media.stored_files();
    assert_eq!(stored.len(), 2, "{stored:?}");

    // The metadata and a first chunk, then a body that never ends: only a refusal made
    // before the bytes are read can answer it.
    let messages = futures::stream::iter([metadata("eu_other", "image/png"), chunk(PNG_HEAD)])
        .chain(futures::stream::pending());
    let status = tokio::time::timeout(Duration::from_secs(5), media.client().upload(messages))
        .await
        .expect("the refusal comes without waiting for the body")
        .unwrap_err();

    assert_backlog_full(&status);
    assert_eq!(media.stored_files(), stored, "nothing of it is stored");
    assert_eq!(media.media_rows().await, 2, "nothing of it is recorded");
}

#[tokio::test]
async fn once_the_worker_settles_a_pending_upload_uploads_are_taken_again() {
    let media = spawn_with_backlog_of(1).await;
    let first = media.upload_png("eu_owner", 10_000).await;
    let refused = media
        .upload(upload_of("eu_owner", "image/png", &png(10_000), 4096))
        .await
        .unwrap_err();
    assert_backlog_full(&refused);

    let verdict = MediaProcessed {
        media_id: first.id.clone(),
        owner_id: first.owner_id.clone(),
        outcome: Some(media_processed::Outcome::Failed(MediaFailed {
            reason: "IMAGE_CORRUPT".to_owned(),
            message: "not an image".to_owned(),
        })),
    };
    media.publish_processed(Uuid::now_v7(), &verdict).await;
    eventually("the first upload to be settled", || async {
        media.get_media(&first.id).await.unwrap().status() != MediaStatus::Pending
    })
    .await;

    let second = media.upload_png("eu_owner", 10_000).await;
    assert_eq!(second.status(), MediaStatus::Pending);
}
