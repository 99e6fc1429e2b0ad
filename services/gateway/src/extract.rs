//! Extractors: JSON bodies and path parameters held to the public contract, image uploads checked at the door,
//! the authenticated caller, and the client's address.

use axum::extract::{FromRequest, FromRequestParts, Path, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::{Bytes, BytesMut};
use futures::stream::{self, BoxStream, StreamExt as _};
use platform_mime::{ACCEPTED_IMAGE_TYPES, SNIFF_LEN};
use serde::de::DeserializeOwned;

use crate::error::FieldError;
use crate::service::Principal;
use crate::{ApiError, AppState, rate_limit};

/// A JSON body that keeps the public contract: `Content-Type: application/json` (else 415),
/// within the body limit (else 413), well-formed (else 400 `MALFORMED_JSON`), and valid
/// against its schema in the OpenAPI document (else 400 `INVALID_INPUT` with every bad
/// field named). `T`'s schema name is the one the document lists (see [`crate::contract`]).
pub struct ValidJson<T>(pub T);

impl<T> FromRequest<AppState> for ValidJson<T>
where
    T: DeserializeOwned + utoipa::ToSchema,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::unsupported_media_type(
                "send the body as JSON, with Content-Type: application/json",
            ));
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::from_status(rejection.status()))?;
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "MALFORMED_JSON",
                format!("the body is not valid JSON: {e}"),
            )
        })?;
        let schema = T::name();
        match state.contract.violations(&schema, &value) {
            Some(errors) if errors.is_empty() => {}
            Some(errors) => return Err(ApiError::invalid_input(errors)),
            None => {
                return Err(ApiError::internal(format!(
                    "{schema} is no request body of the OpenAPI document"
                )));
            }
        }
        // The schema allows exactly what `T` reads, so this fails only if they disagree.
        serde_json::from_value(value)
            .map(Self)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "INVALID_INPUT", e.to_string()))
    }
}

/// `application/json`, or another `application/…+json` type, with any parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// `axum::extract::Path`, except that a parameter holding a control character (a `%00` in
/// the URL, say) is a 400 naming it, before anything upstream sees it.
pub struct ValidPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ValidPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let invalid =
            |detail: String| ApiError::new(StatusCode::BAD_REQUEST, "INVALID_INPUT", detail);
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|rejection| invalid(rejection.body_text()))?;
        let errors: Vec<FieldError> = raw
            .iter()
            .filter(|(_, value)| value.chars().any(char::is_control))
            .map(|(name, _)| FieldError {
                field: name.to_owned(),
                detail: "must not contain control characters".into(),
            })
            .collect();
        if !errors.is_empty() {
            return Err(ApiError::invalid_input(errors));
        }
        let Path(value) = Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| invalid(rejection.body_text()))?;
        Ok(Self(value))
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

/// The token of `Authorization: Bearer <token>`, if the request has one.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim())
}

/// The caller, from a valid `Authorization: Bearer <access token>`; otherwise 401.
pub struct AuthUser(pub Principal);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(principal) = rate_limit::verified(&parts.extensions) {
            return Ok(Self(principal));
        }
        let token = bearer_token(&parts.headers).ok_or_else(|| {
            ApiError::unauthorized("an Authorization: Bearer access token is required")
        })?;
        Ok(Self(state.verifier.verify(token).await?))
    }
}

/// The client's address (see [`rate_limit::client_address`]), used for login throttling:
/// as the rate limiter settled it, or worked out here where no limiter ran.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(settled) = parts.extensions.get::<Self>() {
            return Ok(settled.clone());
        }
        Ok(Self(rate_limit::client_address(
            &parts.headers,
            &parts.extensions,
            state.trusted_proxy_hops,
        )))
    }
}
