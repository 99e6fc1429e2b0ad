//! Images end to end: upload through the gateway, processing by the real media service and
//! worker, variants served with validators, and a processed image as an avatar.

use std::io::Cursor;
use std::time::Duration;

use image::codecs::jpeg::JpegEncoder;
use image::{GenericImageView as _, ImageReader, Rgb, RgbImage};
use serde_json::{Value, json};

use crate::helpers::{TestPlatform, assert_problem, spawn_platform};

/// Processing waits for the worker's consumer group to form on the embedded broker (a few
/// seconds) and then decodes and resizes unoptimised.
const PROCESSING_PATIENCE: Duration = Duration::from_secs(90);

fn token(session: &Value) -> &str {
    session["access_token"].as_str().unwrap()
}

/// A `width`×`height` JPEG with a gradient, so that every variant has real content.
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
    });
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, 80)
        .encode_image(&image)
        .unwrap();
    bytes
}

impl TestPlatform {
    /// `PUT /v1/users/me/avatar`: `media_id` becomes the signed-in user's avatar.
    pub async fn set_avatar(&self, token: &str, media_id: &str) -> reqwest::Response {
        crate::platform::send(
            self.request(reqwest::Method::PUT, "/v1/users/me/avatar")
                .bearer_auth(token)
                .json(&json!({"media_id": media_id})),
        )
        .await
    }

    /// Uploads `bytes` and returns the new media's id, checking the 202 on the way.
    async fn upload_image(&self, token: &str, content_type: &str, bytes: Vec<u8>) -> String {
        let response = self.upload(token, content_type, bytes).await;
        assert_eq!(response.status(), 202);
        let accepted: Value = response.json().await.unwrap();
        assert_eq!(accepted["status"], "pending", "{accepted}");
        accepted["id"].as_str().unwrap().to_owned()
    }

    /// Polls `GET /v1/media/{id}` (bounded) until processing has finished; returns the media.
    async fn processed(&self, token: &str, id: &str) -> Value {
        let deadline = tokio::time::Instant::now() + PROCESSING_PATIENCE;
        loop {
            let media: Value = self
                .get_as(token, &format!("/v1/media/{id}"))
                .await
                .json()
                .await
                .unwrap();
            if media["status"] == "ready" || media["status"] == "failed" {
                return media;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "still {} after {PROCESSING_PATIENCE:?}",
                media["status"]
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test]
async fn an_uploaded_image_is_processed_served_and_becomes_an_avatar() {
    let app = spawn_platform().await;
    let (ada, grace) = (
        app.register_with_profile("eu").await,
        app.register_with_profile("eu").await,
    );
    let id = app
        .upload_image(token(&ada), "image/jpeg", jpeg(2400, 1600))
        .await;

    let media = app.processed(token(&ada), &id).await;
    assert_eq!(media["status"], "ready", "{media}");
    assert_eq!(media["owner_id"], ada["user_id"]);
    assert_eq!(
        (media["width"].as_u64(), media["height"].as_u64()),
        (Some(2400), Some(1600))
    );
    assert!(media["error"].is_null(), "{media}");
    let variants = media["variants"].as_array().unwrap();
    assert!(variants.iter().any(|v| v["name"] == "original"), "{media}");
    for variant in variants {
        assert_served_as_advertised(&app, variant).await;
    }

    let chosen = app.set_avatar(token(&ada), &id).await;
    assert_eq!(chosen.status(), 200);
    let me: Value = app
        .get_as(token(&ada), "/v1/users/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["avatar"]["media_id"], id.as_str(), "{me}");
    let avatar_urls: Vec<&Value> = me["avatar"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["url"])
        .collect();
    let media_urls: Vec<&Value> = variants.iter().map(|v| &v["url"]).collect();
    assert_eq!(avatar_urls, media_urls);

    let not_hers = app.set_avatar(token(&grace), &id).await;
    assert_problem(not_hers, 409, "MEDIA_NOT_YOURS").await;
}

/// The variant's bytes decode to its advertised size, keep the original's 3:2 shape, and
/// come with validators a cache can use.
async fn assert_served_as_advertised(app: &TestPlatform, variant: &Value) {
    let url = format!("{}{}", app.base, variant["url"].as_str().unwrap());
    let response = app.client.get(&url).send().await.unwrap(); // no token: public
    assert_eq!(response.status(), 200, "{variant}");
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "a strong ETag: {etag}"
    );
    let bytes = response.bytes().await.unwrap();
    assert_eq!(
        headers["content-length"].to_str().unwrap(),
        bytes.len().to_string()
    );

    let decoded = ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .unwrap()
        .decode()
        .unwrap();
    let (width, height) = decoded.dimensions();
    assert_eq!(
        (u64::from(width), u64::from(height)),
        (
            variant["width"].as_u64().unwrap(),
            variant["height"].as_u64().unwrap()
        ),
        "{variant}"
    );
    // 3:2 within rounding: the height is 2/3 of the width, give or take one pixel.
    assert!(
        (width * 2).abs_diff(height * 3) <= 3,
        "{width}×{height} is not 3:2"
    );

    let revalidated = app
        .client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    assert_eq!(revalidated.headers()["etag"], etag.as_str());
    assert!(revalidated.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_broken_image_fails_processing_and_cannot_become_an_avatar() {
    let app = spawn_platform().await;
    let ada = app.register_with_profile("eu").await;
    // A JPEG's first bytes and nothing of an image after them.
    let mut broken = jpeg(64, 64);
    broken.truncate(200);
    let id = app.upload_image(token(&ada), "image/jpeg", broken).await;

    let media = app.processed(token(&ada), &id).await;
    assert_eq!(media["status"], "failed", "{media}");
    assert!(
        media["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{media}"
    );
    assert_eq!(media["variants"], json!([]));
    let refused = app.set_avatar(token(&ada), &id).await;
    assert_problem(refused, 409, "MEDIA_NOT_READY").await;
}

#[tokio::test]
async fn unknown_media_are_404() {
    let app = spawn_platform().await;
    let ada = app.register_with_profile("eu").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let avatar = app.set_avatar(token(&ada), &unknown).await;
    assert_problem(avatar, 404, "MEDIA_NOT_FOUND").await;
    let media = app
        .get_as(token(&ada), &format!("/v1/media/{unknown}"))
        .await;
    assert_eq!(media.status(), 404);
    let bytes = app.get(&format!("/v1/media/{unknown}/original")).await;
    assert_eq!(bytes.status(), 404);
}
