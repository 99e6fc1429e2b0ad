//! Extractors: JSON bodies whose rejections are problems, image uploads checked at the door,
//! the authenticated caller, and the client's address.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::{Bytes, BytesMut};
use futures::stream::{self, BoxStream, StreamExt as _};
use platform_mime::{ACCEPTED_IMAGE_TYPES, SNIFF_LEN};
use serde::de::DeserializeOwned;

use crate::service::Principal;
use crate::{ApiError, AppState};

/// `axum::Json`, except that a rejection is a problem+json naming what was wrong.
pub struct ValidJson<T>(pub T);

impl<S, T> FromRequest<S> for ValidJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => {
                use axum::extract::rejection::JsonRejection;
                let (status, code) = match &rejection {
                    // Well-formed JSON of the wrong shape (a missing or unknown field, a wrong
                    // type): axum says 422, the API contract says 400.
                    JsonRejection::JsonDataError(_) => (StatusCode::BAD_REQUEST, "INVALID_INPUT"),
                    JsonRejection::JsonSyntaxError(_) => {
                        (StatusCode::BAD_REQUEST, "MALFORMED_JSON")
                    }
                    other => match other.status() {
                        StatusCode::PAYLOAD_TOO_LARGE => (other.status(), "PAYLOAD_TOO_LARGE"),
                        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                            (other.status(), "UNSUPPORTED_MEDIA_TYPE")
                        }
                        status => (status, "MALFORMED_JSON"),
                    },
                };
                Err(ApiError::new(status, code, rejection.body_text()))
            }
        }
    }
}

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

impl FromRequest<AppState> for ImageUpload {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
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

/// The caller, from a valid `Authorization: Bearer <access token>`; otherwise 401.
pub struct AuthUser(pub Principal);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or_else(|| {
                ApiError::unauthorized("an Authorization: Bearer access token is required")
            })?;
        Ok(Self(state.verifier.verify(token.trim()).await?))
    }
}

/// The client's network address, used for login throttling.
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.trust_forwarded_for {
            // The last hop is the one our own proxy appended; earlier ones are client claims.
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty());
            if let Some(address) = forwarded {
                return Ok(Self(address));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        Ok(Self(peer.unwrap_or_default()))
    }
}
