//! `media.uploaded` → `media.processed`, through the running worker: a ready image with its
//! variants in storage, and hostile or broken uploads as failed results.

use std::io::Cursor;

use image::codecs::jpeg::JpegDecoder;
use image::{GenericImageView as _, ImageDecoder as _, ImageFormat};
use platform_proto::events::v1::media_processed::Outcome;
use platform_proto::events::v1::{MediaFailed, MediaReady};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::helpers::{Published, TestUpstream, Upload, spawn_upstream};
use crate::images;

fn ready(published: &Published) -> &MediaReady {
    match published.outcome() {
        Outcome::Ready(ready) => ready,
        Outcome::Failed(failed) => panic!("expected ready, got {failed:?}"),
    }
}

fn failed(published: &Published) -> &MediaFailed {
    match published.outcome() {
        Outcome::Failed(failed) => failed,
        Outcome::Ready(ready) => panic!("expected failed, got {ready:?}"),
    }
}

/// Uploads `bytes` to a fresh worker and waits for its outcome.
async fn outcome_of(bytes: &[u8], content_type: &str) -> (TestUpstream, Upload, Published) {
    let upstream = spawn_upstream();
    upstream.spawn_worker().await;
    let upload = upstream.upload(bytes, content_type).await;
    let published = upstream.outcome_of(&upload.media_id).await;
    (upstream, upload, published)
}

#[tokio::test]
async fn a_2400_by_1600_jpeg_becomes_ready_with_every_variant_stored_at_its_advertised_size() {
    let (upstream, upload, published) =
        outcome_of(&images::jpeg(&images::photo(2400, 1600)), "image/jpeg").await;

    assert_eq!(published.event_type, "media.processed.v1");
    assert_eq!(published.key, upload.owner_id, "keyed by the owner");
    assert_eq!(
        published.event_id,
        Uuid::new_v5(&upload.event_id, b"media.processed"),
        "the id derives from the upload's"
    );
    assert_eq!(published.event.owner_id, upload.owner_id);
    let ready = ready(&published);
    assert_eq!((ready.width, ready.height), (2400, 1600));
    let advertised: Vec<_> = ready
        .variants
        .iter()
        .map(|v| (v.name.as_str(), v.width, v.height))
        .collect();
    assert_eq!(
        advertised,
        [
            ("thumb", 128, 85),
            ("small", 512, 341),
            ("large", 1600, 1067),
            ("original", 2400, 1600)
        ]
    );
    for variant in &ready.variants {
        let key = format!("variants/{}/{}.jpg", upload.media_id, variant.name);
        assert_eq!(variant.object_key, key);
        assert_eq!(variant.content_type, "image/jpeg");
        let stored = upstream.storage.get(&key).await.unwrap();
        assert_eq!(variant.size_bytes, stored.len() as u64, "{key}");
        assert_eq!(
            variant.etag,
            format!("{:x}", Sha256::digest(&stored)),
            "{key}"
        );
        let decoded = image::load_from_memory_with_format(&stored, ImageFormat::Jpeg).unwrap();
        assert_eq!(
            decoded.dimensions(),
            (variant.width, variant.height),
            "{key}"
        );
        let ratio = f64::from(variant.width) / f64::from(variant.height);
        assert!((ratio - 1.5).abs() < 0.02, "{key} is {ratio}, not 3:2");
    }
}

#[tokio::test]
async fn the_public_original_is_upright_and_carries_no_exif() {
    // 600×400 as stored, with Orientation 6: displayed as 400×600.
    let input = images::with_exif_orientation(&images::jpeg(&images::photo(600, 400)), 6);

    let (upstream, _upload, published) = outcome_of(&input, "image/jpeg").await;

    let ready = ready(&published);
    assert_eq!((ready.width, ready.height), (400, 600));
    let original = ready
        .variants
        .iter()
        .find(|v| v.name == "original")
        .unwrap();
    assert_eq!((original.width, original.height), (400, 600));
    let stored = upstream.storage.get(&original.object_key).await.unwrap();
    assert_ne!(
        stored.as_ref(),
        input.as_slice(),
        "re-encoded, never served as uploaded"
    );
    assert!(
        !images::jpeg_header_markers(&stored).contains(&0xE1),
        "no APP1 (EXIF, XMP)"
    );
    let mut decoder = JpegDecoder::new(Cursor::new(&stored)).unwrap();
    assert_eq!(decoder.exif_metadata().unwrap(), None);
    assert_eq!(decoder.dimensions(), (400, 600));
}

#[tokio::test]
async fn a_png_declaring_30000_by_30000_pixels_ends_failed_as_too_large() {
    let (upstream, upload, published) =
        outcome_of(&images::png_claiming(30_000, 30_000), "image/png").await;

    let failed = failed(&published);
    assert_eq!(failed.reason, "IMAGE_TOO_LARGE");
    assert!(
        failed.message.contains("30000×30000"),
        "a readable message: {}",
        failed.message
    );
    let variants = upstream
        .storage
        .list(&format!("variants/{}", upload.media_id))
        .await
        .unwrap();
    assert!(variants.is_empty(), "nothing stored: {variants:?}");
}

#[tokio::test]
async fn truncated_jpeg_bytes_end_failed_as_corrupt_with_a_reason() {
    let input = images::jpeg(&images::photo(640, 480));

    let (_upstream, _upload, published) = outcome_of(&input[..input.len() / 2], "image/jpeg").await;

    let failed = failed(&published);
    assert_eq!(failed.reason, "IMAGE_CORRUPT");
    assert!(failed.message.contains("truncated"), "{}", failed.message);
}

#[tokio::test]
async fn an_upload_whose_original_is_missing_ends_failed_as_original_missing() {
    let upstream = spawn_upstream();
    upstream.spawn_worker().await;

    let upload = upstream.announce("image/jpeg").await;

    let failed = failed(&upstream.outcome_of(&upload.media_id).await).clone();
    assert_eq!(failed.reason, "ORIGINAL_MISSING");
    assert!(
        failed.message.contains(&upload.media_id),
        "{}",
        failed.message
    );
}

#[tokio::test]
async fn an_original_over_the_byte_limit_ends_failed_without_being_read() {
    let upstream = spawn_upstream();
    let mut settings = upstream.settings();
    settings.limits.max_input_bytes = 1024;
    crate::helpers::spawn_worker_with(settings).await;

    let upload = upstream
        .upload(&images::jpeg(&images::photo(128, 128)), "image/jpeg")
        .await;

    let failed = failed(&upstream.outcome_of(&upload.media_id).await).clone();
    assert_eq!(failed.reason, "INPUT_TOO_LARGE");
    assert!(
        failed.message.contains("limit of 1024 bytes"),
        "{}",
        failed.message
    );
}

/// A replay of `media.uploaded` (the broker lost its log and the media service's outbox
/// published it again) publishes the kept outcome: the image is not processed again, here
/// provably, since its original is gone by then.
#[tokio::test]
async fn an_upload_delivered_again_gets_its_kept_outcome_without_being_processed_again() {
    let (upstream, upload, first) =
        outcome_of(&images::jpeg(&images::photo(640, 480)), "image/jpeg").await;
    upstream
        .storage
        .delete(&crate::helpers::original_key(&upload.media_id))
        .await
        .unwrap();

    upstream.publish_uploaded(&upload, "image/jpeg").await;
    let again = platform_testkit::until_some("the outcome published again", || async {
        upstream
            .published(&upload.media_id)
            .await
            .into_iter()
            .nth(1)
    })
    .await;
    assert_eq!(
        again.event_id, first.event_id,
        "the same event, deduplicated downstream"
    );
    assert_eq!(
        ready(&again),
        ready(&first),
        "the kept outcome, not ORIGINAL_MISSING"
    );
}
