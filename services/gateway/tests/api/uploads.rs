//! `POST /v1/media` at the door: only accepted image types whose bytes agree, within the
//! upload limit (enforced while streaming, never by buffering), streamed to the media
//! service; and which media routes need a token.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt as _;
use platform_grpc::GrpcClientSettings;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::helpers::{
    StubMedia, TestPlatform, assert_problem, spawn_platform_with, spawn_refusing_stub_media,
    spawn_stub_media,
};
use crate::platform::send;

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
const MIB: u64 = 1024 * 1024;

/// `len` bytes that start like a PNG (the stub media service does not decode them).
fn png_like(len: usize) -> Vec<u8> {
    let mut bytes = PNG_MAGIC.to_vec();
    bytes.resize(len, 0x5a);
    bytes
}

/// The gateway with a stub media service that refuses uploads over `media_max_bytes`, and
/// a gateway upload limit of `gateway_max_bytes`.
async fn spawn_with_stub(
    gateway_max_bytes: u64,
    media_max_bytes: u64,
) -> (TestPlatform, StubMedia) {
    let (addr, media) = spawn_stub_media(media_max_bytes).await;
    let app = spawn_platform_with(Box::new(move |_, _, gateway| {
        gateway.media_mut().grpc = GrpcClientSettings::for_tests("media", addr);
        gateway.media_mut().uploads.max_bytes = gateway_max_bytes;
    }))
    .await;
    (app, media)
}

impl TestPlatform {
    /// A fresh user's access token; no profile is needed to upload.
    pub async fn token(&self) -> String {
        let (_, _, session) = self.register("eu").await;
        session["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn upload(
        &self,
        token: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        send(
            self.request(Method::POST, "/v1/media")
                .bearer_auth(token)
                .header("content-type", content_type)
                .body(body),
        )
        .await
    }
}

/// Uploads `body` as `content_type` and checks that the gateway refused it as unsupported,
/// without sending anything on to media; returns the problem.
async fn assert_unsupported(
    app: &TestPlatform,
    media: &StubMedia,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> Value {
    let token = app.token().await;
    let response = app.upload(&token, content_type, body).await;
    let problem = assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE").await;
    assert!(
        media.uploads.lock().unwrap().is_empty(),
        "nothing was sent on"
    );
    problem
}

#[tokio::test]
async fn an_image_is_streamed_to_the_media_service_and_accepted_as_pending() {
    let (app, media) = spawn_with_stub(MIB, u64::MAX).await;
    let (_, _, session) = app.register("eu").await;
    let token = session["access_token"].as_str().unwrap();
    // Larger than the 64 KiB JSON body limit, which does not apply to uploads.
    let image = png_like(200 * 1024);

    let response = app.upload(token, "image/png", image.clone()).await;

    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["status"], "pending");
    let id = accepted["id"].as_str().unwrap();
    assert_eq!(location, format!("/v1/media/{id}"));
    let seen = media.uploads.lock().unwrap()[0].clone();
    let metadata = seen.metadata.unwrap();
    assert_eq!(metadata.owner_id, session["user_id"].as_str().unwrap());
    assert_eq!(metadata.content_type, "image/png");
    assert_eq!(seen.bytes, image.len() as u64);
    assert!(seen.completed);
}

#[tokio::test]
async fn a_type_that_is_not_an_accepted_image_is_415() {
    let (app, media) = spawn_with_stub(MIB, u64::MAX).await;
    let body = assert_unsupported(&app, &media, "text/plain", "hello").await;
    assert!(
        body["detail"].as_str().unwrap().contains("image/webp"),
        "{body}"
    );
}

#[tokio::test]
async fn a_png_declared_as_jpeg_is_415_naming_the_mismatch() {
    let (app, media) = spawn_with_stub(MIB, u64::MAX).await;
    let body = assert_unsupported(&app, &media, "image/jpeg", png_like(1024)).await;
    assert_eq!(
        body["detail"],
        "the content is image/png, not the declared image/jpeg"
    );
}

#[tokio::test]
async fn a_content_length_over_the_limit_is_413_before_any_of_the_body_is_sent() {
    let (app, media) = spawn_with_stub(MIB, u64::MAX).await;
    let token = app.token().await;
    // Only the head: a gateway that waited for the body would never answer.
    let address = app.base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /v1/media HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {token}\r\n\
         content-type: image/png\r\ncontent-length: {}\r\n\r\n",
        MIB + 1
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut answer))
        .await
        .expect("the gateway answers without the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");
    assert!(
        media.uploads.lock().unwrap().is_empty(),
        "nothing was sent on"
    );
}

#[tokio::test]
async fn a_chunked_body_past_the_limit_is_cut_off_with_413_without_reading_the_rest() {
    let (app, media) = spawn_with_stub(MIB, u64::MAX).await;
    let token = app.token().await;
    // 64 MiB in 64 KiB chunks, counted as the client produces them.
    let produced = Arc::new(AtomicU64::new(0));
    let counter = produced.clone();
    let chunk = Bytes::from(png_like(64 * 1024));
    let chunks = futures::stream::iter(0..1024).map(move |_| {
        counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        Ok::<_, std::io::Error>(chunk.clone())
    });

    let response = app
        .upload(&token, "image/png", reqwest::Body::wrap_stream(chunks))
        .await;

    assert_problem(response, 413, "PAYLOAD_TOO_LARGE").await;
    let produced = produced.load(Ordering::SeqCst);
    assert!(
        produced < 16 * MIB,
        "the client produced {produced} bytes of 64 MiB: the gateway read on"
    );
    // Nothing past the limit went on to the media service (at most the frame that crossed it),
    // and it was never told the upload was complete, so it keeps nothing.
    let seen = media.uploads.lock().unwrap()[0].clone();
    assert!(
        seen.bytes <= MIB + 64 * 1024,
        "{} bytes forwarded",
        seen.bytes
    );
    assert!(!seen.completed, "the cut-off upload was never completed");
}

#[tokio::test]
async fn a_media_service_refusing_the_size_is_413() {
    let (app, _media) = spawn_with_stub(MIB, 1024).await;
    let token = app.token().await;
    let response = app.upload(&token, "image/png", png_like(4096)).await;
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE").await;
}

#[tokio::test]
async fn a_full_upload_backlog_is_503_with_retry_after_and_says_so() {
    // The media service's own refusal, as it sends it.
    let refusal = tonic::Status::from(media_service::MediaError::BacklogFull { limit: 2 });
    let (addr, media) = spawn_refusing_stub_media(refusal).await;
    let app = spawn_platform_with(Box::new(move |_, _, gateway| {
        gateway.media_mut().grpc = GrpcClientSettings::for_tests("media", addr);
    }))
    .await;
    let token = app.token().await;

    let response = app.upload(&token, "image/png", png_like(4096)).await;

    assert_eq!(response.headers()["retry-after"], "10");
    let body = assert_problem(response, 503, "UPLOAD_BACKLOG_FULL").await;
    assert_eq!(
        body["detail"],
        "too many uploads are waiting to be processed; retry later"
    );
    let seen = media.uploads.lock().unwrap()[0].clone();
    assert!(seen.metadata.is_some() && !seen.completed, "{seen:?}");
    // And the API document says so.
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let documented = &doc["paths"]["/v1/media"]["post"]["responses"]["503"];
    assert!(
        documented["headers"]["retry-after"].is_object(),
        "{documented}"
    );
}

#[tokio::test]
async fn an_upload_may_take_longer_than_the_request_timeout() {
    let (addr, _media) = spawn_stub_media(u64::MAX).await;
    let app = spawn_platform_with(Box::new(move |_, _, gateway| {
        gateway.media_mut().grpc = GrpcClientSettings::for_tests("media", addr);
        // Long enough for the registration below on a loaded machine (its password hash is
        // CPU-bound: 200 ms failed it under load), short against the upload.
        gateway.http.request_timeout = Duration::from_secs(2);
    }))
    .await;
    let token = app.token().await;
    // Six pieces, 600 ms apart: 3.6 s in all, nearly two request timeouts.
    let slow = futures::stream::iter(0..6).then(|i| async move {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let piece = if i == 0 {
            png_like(1024)
        } else {
            vec![0; 1024]
        };
        Ok::<_, std::io::Error>(Bytes::from(piece))
    });
    let response = app
        .upload(&token, "image/png", reqwest::Body::wrap_stream(slow))
        .await;
    assert_eq!(response.status(), 202);
}

#[tokio::test]
async fn uploads_and_avatar_changes_need_a_token() {
    let (app, _media) = spawn_with_stub(MIB, u64::MAX).await;
    let upload = send(
        app.request(Method::POST, "/v1/media")
            .header("content-type", "image/png")
            .body(png_like(1024)),
    )
    .await;
    assert_problem(upload, 401, "UNAUTHORIZED").await;
    let avatar = send(
        app.request(Method::PUT, "/v1/users/me/avatar")
            .json(&json!({"media_id": "m1"})),
    )
    .await;
    assert_problem(avatar, 401, "UNAUTHORIZED").await;
    assert_problem(app.get("/v1/media/m1").await, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn the_image_bytes_route_is_public() {
    let (app, _media) = spawn_with_stub(MIB, u64::MAX).await;
    // No token, and no 401: the stub knows no media, so the answer is its 404.
    let response = app.get("/v1/media/m1/thumb").await;
    assert_problem(response, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn a_silent_media_service_is_a_504_at_the_gateway() {
    let silent = platform_testkit::black_hole().await;
    let app = spawn_platform_with(Box::new(move |_, _, gateway| {
        gateway.media_mut().grpc = GrpcClientSettings::for_tests("media", silent);
        gateway.media_mut().grpc.request_timeout = Duration::from_millis(300);
    }))
    .await;
    let token = app.token().await;
    let response = send(app.request(Method::GET, "/v1/media/m1").bearer_auth(&token)).await;
    assert_problem(response, 504, "UPSTREAM_TIMEOUT").await;
    assert_problem(app.get("/v1/media/m1/thumb").await, 504, "UPSTREAM_TIMEOUT").await;
}
