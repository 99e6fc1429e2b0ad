//! Faults: an object store that accepts connections and never answers. Calls fail within
//! the storage deadline instead of hanging, and readiness says so.

use std::time::{Duration, Instant};

use platform_storage::StorageSettings;
use tonic::Code;

use crate::helpers::{TestMedia, png, spawn_media_with, upload_of};

/// The media service over an S3 endpoint that never answers, with a 300 ms deadline.
async fn spawn_with_silent_storage() -> TestMedia {
    let storage = StorageSettings::from_env(&platform_testkit::silent_s3().await).unwrap();
    spawn_media_with(move |settings| settings.storage = storage).await
}

fn assert_timely_failure(status: &tonic::Status, started: Instant) {
    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Unavailable),
        "{status:?}"
    );
    // One 300 ms deadline; far less than a hang, with room for a loaded machine.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_silent_object_store_fails_an_upload_within_its_deadline() {
    let media = spawn_with_silent_storage().await;
    let started = Instant::now();
    let status = media
        .upload(upload_of("eu_owner", "image/png", &png(10_000), 4096))
        .await
        .unwrap_err();
    assert_timely_failure(&status, started);
    let rows: i64 = sqlx::query_scalar("select count(*) from media")
        .fetch_one(&media.pool().await)
        .await
        .unwrap();
    assert_eq!(rows, 0, "nothing is recorded");
}

#[tokio::test]
async fn a_silent_object_store_fails_a_download_within_its_deadline() {
    let media = spawn_with_silent_storage().await;
    let id = uuid::Uuid::now_v7();
    let pool = media.pool().await;
    sqlx::query(
        "insert into media (id, owner_id, status, content_type, size_bytes, object_key, width, height) \
         values ($1, 'eu_owner', 'ready', 'image/png', 10, 'originals/x', 10, 10)",
    )
    .bind(id)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into media_variants \
             (media_id, name, width, height, content_type, size_bytes, object_key, etag) \
         values ($1, 'original', 10, 10, 'image/jpeg', 10, 'variants/x/original.jpg', 'e')",
    )
    .bind(id)
    .execute(&pool)
    .await
    .unwrap();
    let started = Instant::now();
    let status = media
        .get_content(&id.to_string(), "original")
        .await
        .unwrap_err();
    assert_timely_failure(&status, started);
}

#[tokio::test]
async fn with_a_silent_object_store_the_service_is_not_ready() {
    let media = spawn_with_silent_storage().await;
    let response = reqwest::get(format!("http://{}/readyz", media.ops))
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let report = response.text().await.unwrap();
    assert!(report.contains("object-storage"), "{report}");
}
