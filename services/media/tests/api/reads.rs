//! Reading media: unknown and malformed ids look alike, and a pending media has no content.

use platform_proto::media::v1::MediaStatus;
use platform_testkit::error_reason;
use tonic::Code;

use crate::helpers::spawn_media;

#[tokio::test]
async fn unknown_and_malformed_media_ids_are_not_found() {
    let media = spawn_media().await;
    let known = media.upload_png("eu_owner", 1000).await;
    let id: uuid::Uuid = known.id.parse().unwrap();
    for probe in [
        uuid::Uuid::now_v7().to_string(),
        "not-a-media-id".to_owned(),
        id.simple().to_string(),
        known.id.to_uppercase(),
        String::new(),
    ] {
        let status = media.get_media(&probe).await.unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{probe}");
        assert_eq!(error_reason(&status), "MEDIA_NOT_FOUND");
    }
}

#[tokio::test]
async fn a_pending_media_has_no_content_yet() {
    let media = spawn_media().await;
    let pending = media.upload_png("eu_owner", 1000).await;
    assert_eq!(pending.status(), MediaStatus::Pending);
    assert!(pending.variants.is_empty());
    let status = media
        .get_content(&pending.id, "original")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(error_reason(&status), "VARIANT_NOT_FOUND");
}

#[tokio::test]
async fn content_of_an_unknown_media_is_not_found() {
    let media = spawn_media().await;
    for probe in [
        uuid::Uuid::now_v7().to_string(),
        "../../etc/passwd".to_owned(),
    ] {
        let status = media.get_content(&probe, "original").await.unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{probe}");
        assert_eq!(error_reason(&status), "MEDIA_NOT_FOUND");
    }
}
