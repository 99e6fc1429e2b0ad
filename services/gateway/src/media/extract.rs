//! The image upload extractor: the one way a request body reaches the media service.

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use bytes::{Bytes, BytesMut};
use futures::stream::{self, BoxStream, StreamExt as _};
use platform_mime::{ACCEPTED_IMAGE_TYPES, SNIFF_LEN};

use super::MediaState;
use crate::ApiError;

/// An image upload, checked at the door: an accepted `Content-Type` (else 415), a
/// `Content-Length` within the upload limit (else 413 at once, before any byte is read), and
/// first bytes that are the declared type (else 415 naming what they are). Nothing more is
/// read here: `body` yields the image as it arrives, the first bytes included, and fails
/// with 413 as soon as the total passes the limit, so a client cannot make the gateway
/// buffer or read more than the limit.
pub struct ImageUpload {
    /// The media type, normalised, e.g. `image/png`.
    pub content_type: &'static str,
    /// The bytes; after an error it must not be polled again.
    pub body: BoxStream<'static, Result<Bytes, ApiError>>,
}

impl FromRequest<MediaState> for ImageUpload {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &MediaState) -> Result<Self, Self::Rejection> {
        let limit = state.max_upload_bytes;
        let declared = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if !platform_mime::is_accepted(&declared) {
            return Err(ApiError::unsupported_media_type(format!(
                "send the image's bytes with Content-Type {}",
                ACCEPTED_IMAGE_TYPES.join(", ")
            )));
        }
        if content_length(request.headers()).is_some_and(|length| length > limit) {
            return Err(too_large(limit));
        }
        let mut seen = 0_u64;
        let mut body = request.into_body().into_data_stream().map(move |frame| {
            let frame = frame.map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    "the request body could not be read",
                )
            })?;
            seen += frame.len() as u64;
            if seen > limit {
                return Err(too_large(limit));
            }
            Ok(frame)
        });
        let mut head = BytesMut::new();
        while head.len() < SNIFF_LEN {
            match body.next().await {
                Some(frame) => head.extend_from_slice(&frame?),
                None => break,
            }
        }
        let content_type = platform_mime::check_declared(&declared, &head)
            .map_err(ApiError::unsupported_media_type)?;
        Ok(Self {
            content_type,
            body: stream::once(async move { Ok(head.freeze()) })
                .chain(body)
                .boxed(),
        })
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn too_large(limit: u64) -> ApiError {
    ApiError::payload_too_large(format!("an image may be at most {limit} bytes"))
}
