//! Uploads: streamed into storage whole, recorded as pending, announced on `media.uploaded`;
//! refused, with nothing kept, when they are too large or not what they claim to be.

use std::path::PathBuf;

use platform_proto::events::v1::MediaUploaded;
use platform_proto::media::v1::MediaStatus;
use platform_testkit::{error_reason, eventually, violations};
use prost::Message as _;
use rdkafka::Message as _;
use tonic::Code;

use crate::helpers::{
    PNG_HEAD, TestMedia, chunk, complete, metadata, png, spawn_media, spawn_media_with, upload_of,
};

/// Asserts that no object is stored (staging files included) and no media is recorded.
async fn assert_nothing_kept(media: &TestMedia, case: &str) {
    assert_eq!(media.stored_files(), Vec::<PathBuf>::new(), "{case}");
    assert_eq!(media.media_rows().await, 0, "{case}: no media recorded");
}

fn assert_invalid(status: &tonic::Status, field: &str, says: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let violations = violations(status);
    assert!(
        violations
            .iter()
            .any(|(f, description)| f == field && description.contains(says)),
        "expected {field} to say {says:?}: {violations:?}"
    );
}

#[tokio::test]
async fn a_multi_chunk_upload_is_stored_whole_recorded_pending_and_announced() {
    let media = spawn_media().await;
    let body = png(300_000);
    let uploaded = media
        .upload(upload_of("eu_owner", "image/png", &body, 64 * 1024))
        .await
        .unwrap();

    assert_eq!(uploaded.status(), MediaStatus::Pending);
    assert_eq!(
        (uploaded.owner_id.as_str(), uploaded.content_type.as_str()),
        ("eu_owner", "image/png")
    );
    assert_eq!(uploaded.size_bytes, 300_000);
    let id: uuid::Uuid = uploaded.id.parse().unwrap();
    assert_eq!(id.get_version_num(), 7);
    assert_eq!(uploaded.id, id.hyphenated().to_string());
    let stored = media
        .storage()
        .get(&format!("originals/{}", uploaded.id))
        .await
        .unwrap();
    assert_eq!(stored, body, "the original is stored whole, in order");
    assert_eq!(media.get_media(&uploaded.id).await.unwrap(), uploaded);

    let pool = media.pool().await;
    eventually("the outbox to be relayed", || async {
        sqlx::query_scalar::<_, i64>("select count(*) from outbox where sent_at is null")
            .fetch_one(&pool)
            .await
            .unwrap()
            == 0
    })
    .await;
    let records = media.read_topic("media.uploaded").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].key(), Some("eu_owner".as_bytes()));
    let event = MediaUploaded::decode(records[0].payload().unwrap()).unwrap();
    assert_eq!(event.media_id, uploaded.id);
    assert_eq!(event.owner_id, "eu_owner");
    assert_eq!(event.content_type, "image/png");
    assert_eq!(event.object_key, format!("originals/{}", uploaded.id));
    assert_eq!(event.size_bytes, 300_000);
    assert!(event.uploaded_at.is_some());
}

#[tokio::test]
async fn a_first_chunk_shorter_than_the_magic_number_is_checked_with_the_next() {
    let media = spawn_media().await;
    let mut messages = vec![metadata("eu_owner", "image/png")];
    messages.extend(PNG_HEAD.chunks(3).map(chunk));
    messages.push(chunk(b"the rest"));
    messages.push(complete(PNG_HEAD.len() + 8));
    let uploaded = media.upload(messages).await.unwrap();
    assert_eq!(uploaded.size_bytes, (PNG_HEAD.len() + 8) as u64);
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_keeping_nothing_and_one_at_the_limit_accepted() {
    let media = spawn_media_with(|settings| settings.max_upload_bytes = 100_000).await;
    let status = media
        .upload(upload_of("eu_owner", "image/png", &png(200_000), 32 * 1024))
        .await
        .unwrap_err();

    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(error_reason(&status), "UPLOAD_TOO_LARGE");
    assert_nothing_kept(&media, "over the limit").await;

    let uploaded = media
        .upload(upload_of("eu_owner", "image/png", &png(100_000), 32 * 1024))
        .await
        .unwrap();
    assert_eq!(uploaded.size_bytes, 100_000);
}

#[tokio::test]
async fn an_invalid_upload_is_refused_naming_the_field_and_nothing_is_kept() {
    let media = spawn_media().await;
    let mut wrong_size = upload_of("eu_owner", "image/png", &png(10_000), 4096);
    wrong_size.pop();
    wrong_size.push(complete(12_000));
    // (case, messages, the field named, what it says)
    let cases = [
        (
            "a chunk first",
            vec![chunk(&png(100))],
            "metadata",
            "the first message must be the metadata",
        ),
        (
            "no message",
            Vec::new(),
            "metadata",
            "the first message must be the metadata",
        ),
        (
            "a second metadata",
            vec![
                metadata("eu_owner", "image/png"),
                chunk(&png(100)),
                metadata("eu_owner", "image/png"),
            ],
            "metadata",
            "must be sent once",
        ),
        (
            "a PNG declared as JPEG",
            upload_of("eu_owner", "image/jpeg", &png(1000), 100),
            "chunk",
            "the content is image/png, not the declared image/jpeg",
        ),
        (
            "text declared as text/plain",
            upload_of("eu_owner", "text/plain", b"hello, world", 100),
            "metadata.content_type",
            "\"text/plain\" is not accepted",
        ),
        (
            "text declared as an image",
            upload_of("eu_owner", "image/png", b"hello, world, not a png", 100),
            "chunk",
            "the content is not an image",
        ),
        (
            "an empty upload",
            vec![metadata("eu_owner", "image/png"), chunk(b""), complete(0)],
            "chunk",
            "the upload is empty",
        ),
        (
            "a complete message naming another size",
            wrong_size,
            "complete.size_bytes",
            "says 12000 bytes, but the chunks held 10000",
        ),
        (
            "no owner",
            upload_of("  ", "image/png", &png(100), 100),
            "metadata.owner_id",
            "must not be empty",
        ),
    ];
    for (case, messages, field, says) in cases {
        let status = media.upload(messages).await.unwrap_err();
        assert_invalid(&status, field, says);
        assert_nothing_kept(&media, case).await;
    }
}

#[tokio::test]
async fn an_upload_cut_short_before_the_complete_message_keeps_nothing() {
    let media = spawn_media().await;
    let mut messages = upload_of("eu_owner", "image/png", &png(200_000), 32 * 1024);
    messages.pop(); // the client gave up before the end: no `complete`
    let status = media.upload(messages).await.unwrap_err();
    assert_eq!(status.code(), Code::Cancelled, "{status:?}");
    assert_nothing_kept(&media, "cut short").await;
}

#[tokio::test]
async fn when_the_database_refuses_the_record_the_stored_original_is_removed() {
    let media = spawn_media().await;
    // Every new row is refused; the table stays readable, so the backlog check still passes.
    sqlx::query("alter table media add constraint refuse_new_rows check (false) not valid")
        .execute(&media.pool().await)
        .await
        .unwrap();
    let status = media
        .upload(upload_of("eu_owner", "image/png", &png(10_000), 4096))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    assert_eq!(status.message(), "internal error", "nothing internal leaks");
    assert_eq!(media.stored_files(), Vec::<PathBuf>::new());
}
