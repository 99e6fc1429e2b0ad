//! `media.processed` → the media `ready` with its variants or `failed`: once per event, and
//! never over a verdict already recorded.

use bytes::Bytes;
use platform_proto::events::v1::{
    MediaFailed, MediaProcessed, MediaReady, StoredVariant, media_processed,
};
use platform_proto::media::v1::{Media, MediaStatus, Variant};
use tonic::Code;
use uuid::Uuid;

use platform_testkit::eventually;

use crate::helpers::{TestMedia, spawn_media};

/// What the worker makes of an upload: (name, width, height, length of the bytes).
const RENDITIONS: [(&str, u32, u32, usize); 3] = [
    ("original", 1600, 1200, 300_000),
    ("thumb", 160, 120, 4_000),
    ("small", 320, 240, 150_000),
];

fn rendition_bytes(name: &str, len: usize) -> Vec<u8> {
    name.bytes().cycle().take(len).collect()
}

/// Stores the renditions as the worker would, and describes them as its event does.
async fn store_renditions(media: &TestMedia, media_id: &str) -> Vec<StoredVariant> {
    let storage = media.storage();
    let mut stored = Vec::new();
    for (name, width, height, len) in RENDITIONS {
        let object_key = format!("variants/{media_id}/{name}.jpg");
        let bytes = Bytes::from(rendition_bytes(name, len));
        storage.put(&object_key, bytes).await.unwrap();
        stored.push(StoredVariant {
            name: name.to_owned(),
            width,
            height,
            content_type: "image/jpeg".to_owned(),
            object_key,
            size_bytes: len as u64,
            etag: format!("{:064x}", len),
        });
    }
    stored
}

fn ready(media: &Media, variants: Vec<StoredVariant>) -> MediaProcessed {
    MediaProcessed {
        media_id: media.id.clone(),
        owner_id: media.owner_id.clone(),
        outcome: Some(media_processed::Outcome::Ready(MediaReady {
            width: 1600,
            height: 1200,
            variants,
        })),
    }
}

fn failed(media: &Media, reason: &str, message: &str) -> MediaProcessed {
    MediaProcessed {
        media_id: media.id.clone(),
        owner_id: media.owner_id.clone(),
        outcome: Some(media_processed::Outcome::Failed(MediaFailed {
            reason: reason.to_owned(),
            message: message.to_owned(),
        })),
    }
}

/// Waits until the media has left `pending`, and returns it.
async fn settled(media: &TestMedia, id: &str) -> Media {
    eventually("the media to be settled", || async {
        media.get_media(id).await.unwrap().status() != MediaStatus::Pending
    })
    .await;
    media.get_media(id).await.unwrap()
}

/// Uploads a PNG of `len` bytes, stores its renditions as the worker would and publishes it
/// ready; returns the upload and the media once settled.
async fn made_ready(media: &TestMedia, len: usize) -> (Media, Media) {
    let uploaded = media.upload_png("eu_owner", len).await;
    let variants = store_renditions(media, &uploaded.id).await;
    media
        .publish_processed(Uuid::now_v7(), &ready(&uploaded, variants))
        .await;
    let read = settled(media, &uploaded.id).await;
    (uploaded, read)
}

#[tokio::test]
async fn a_ready_event_makes_the_media_ready_and_its_variants_stream_back_identical() {
    let media = spawn_media().await;
    let (uploaded, read) = made_ready(&media, 5_000).await;
    assert_eq!(read.status(), MediaStatus::Ready);
    assert_eq!((read.width, read.height), (1600, 1200));
    assert_eq!(read.error, "");
    let names: Vec<_> = read.variants.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["thumb", "small", "original"], "smallest first");
    for (name, width, height, len) in RENDITIONS {
        let (description, bytes) = media.get_content(&uploaded.id, name).await.unwrap();
        let expected = Variant {
            name: name.to_owned(),
            width,
            height,
            content_type: "image/jpeg".to_owned(),
            size_bytes: len as u64,
            etag: format!("{:064x}", len),
        };
        assert_eq!(description, expected);
        assert!(read.variants.contains(&expected));
        assert!(
            bytes == rendition_bytes(name, len),
            "{name} streams back identical"
        );
    }
}

#[tokio::test]
async fn the_same_processed_event_twice_is_applied_once() {
    let media = spawn_media().await;
    let first = media.upload_png("eu_owner", 1_000).await;
    let event_id = Uuid::now_v7();
    let event = ready(&first, store_renditions(&media, &first.id).await);
    media.publish_processed(event_id, &event).await;
    media.publish_processed(event_id, &event).await;
    // A later event with the same key (so on the same partition) proves both were handled.
    let marker = media.upload_png("eu_owner", 1_000).await;
    let marker_event = failed(&marker, "IMAGE_UNREADABLE", "marker");
    media.publish_processed(Uuid::now_v7(), &marker_event).await;
    settled(&media, &marker.id).await;

    let read = media.get_media(&first.id).await.unwrap();
    assert_eq!(read.status(), MediaStatus::Ready);
    assert_eq!(read.variants.len(), RENDITIONS.len());
    let recorded: i64 =
        sqlx::query_scalar("select count(*) from processed_events where event_id = $1")
            .bind(event_id)
            .fetch_one(&media.pool().await)
            .await
            .unwrap();
    assert_eq!(recorded, 1);
    platform_testkit::assert_metric(
        media.ops,
        r#"media_processed_events_total{result="duplicate"}"#,
    )
    .await;
}

#[tokio::test]
async fn a_failed_event_marks_the_media_failed_with_its_reason() {
    let media = spawn_media().await;
    let uploaded = media.upload_png("eu_owner", 1_000).await;
    let event = failed(
        &uploaded,
        "IMAGE_TOO_MANY_PIXELS",
        "40000x40000 is over the limit",
    );
    media.publish_processed(Uuid::now_v7(), &event).await;

    let read = settled(&media, &uploaded.id).await;
    assert_eq!(read.status(), MediaStatus::Failed);
    assert_eq!(
        read.error,
        "IMAGE_TOO_MANY_PIXELS: 40000x40000 is over the limit"
    );
    assert!(read.variants.is_empty());
    assert_eq!((read.width, read.height), (0, 0));
    let status = media
        .get_content(&uploaded.id, "original")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn a_processed_event_for_a_ready_media_changes_nothing() {
    let media = spawn_media().await;
    let (uploaded, before) = made_ready(&media, 1_000).await;

    let late = Uuid::now_v7();
    media
        .publish_processed(late, &failed(&uploaded, "IMAGE_UNREADABLE", "too late"))
        .await;
    eventually("the late event to be handled", || media.processed(late)).await;
    assert_eq!(media.get_media(&uploaded.id).await.unwrap(), before);
}

#[tokio::test]
async fn an_event_for_an_unknown_media_is_dead_lettered() {
    let media = spawn_media().await;
    let unknown = Media {
        id: Uuid::now_v7().to_string(),
        owner_id: "eu_owner".to_owned(),
        ..Media::default()
    };
    let event_id = Uuid::now_v7();
    media
        .publish_processed(event_id, &failed(&unknown, "IMAGE_UNREADABLE", "who?"))
        .await;
    eventually("the event to reach the dead-letter topic", || async {
        media
            .read_topic("media.processed.dlq")
            .await
            .iter()
            .any(|record| platform_testkit::event_id(record) == Some(event_id))
    })
    .await;
    assert!(!media.processed(event_id).await, "nothing was recorded");
}
