//! `/v1/media/*`: uploading images, following their processing, and serving their bytes
//! (publicly, so a CDN can cache them); and `/v1/users/me/avatar`, which makes one of them the
//! caller's avatar.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform_proto::media::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::MediaState;
use super::extract::ImageUpload;
use crate::ApiError;
use crate::controller::images::{ImageVariant, MediaLinks};
use crate::controller::users::Profile;
use crate::error::Problem;
use crate::extract::{AuthUser, ValidJson, ValidPath};

/// A variant's bytes never change (a new image is a new media), so caches may keep them.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// Where an image is in its processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MediaStatus {
    /// Stored, waiting to be processed.
    Pending,
    Processing,
    /// Its variants can be fetched.
    Ready,
    /// It could not be processed; `error` says why.
    Failed,
}

impl From<pb::MediaStatus> for MediaStatus {
    fn from(status: pb::MediaStatus) -> Self {
        match status {
            // Unspecified only from a media service that predates a status: not ready.
            pb::MediaStatus::Unspecified | pb::MediaStatus::Pending => Self::Pending,
            pb::MediaStatus::Processing => Self::Processing,
            pb::MediaStatus::Ready => Self::Ready,
            pb::MediaStatus::Failed => Self::Failed,
        }
    }
}

/// An uploaded image and where it is in its processing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Media {
    pub id: String,
    pub owner_id: String,
    pub status: MediaStatus,
    /// The content type of the upload, e.g. `image/png`.
    pub content_type: String,
    /// Of the original as displayed; `null` until ready.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Empty until ready.
    pub variants: Vec<ImageVariant>,
    /// Why processing failed (a stable code, a colon, the reason); `null` unless failed.
    pub error: Option<String>,
}

impl Media {
    fn new(media: pb::Media, links: &MediaLinks) -> Self {
        let status = media.status().into();
        let known = |n: u32| (n > 0).then_some(n);
        Self {
            status,
            width: known(media.width),
            height: known(media.height),
            variants: media
                .variants
                .into_iter()
                .map(|v| ImageVariant::new(&media.id, v.name, v.width, v.height, links))
                .collect(),
            error: (status == MediaStatus::Failed).then_some(media.error),
            id: media.id,
            owner_id: media.owner_id,
            content_type: media.content_type,
        }
    }
}

/// The image to show as the caller's avatar.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvatarChoice {
    /// A ready image of the caller's own, from `POST /v1/media`.
    #[schema(min_length = 1, max_length = 64)]
    pub media_id: String,
}

/// The answer to an upload: the image is stored and waits to be processed.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadAccepted {
    pub id: String,
    /// `pending`.
    pub status: MediaStatus,
}

/// Upload an image; it is processed in the background (poll `GET /v1/media/{id}`).
#[utoipa::path(post, path = "/v1/media", tag = "media", operation_id = "upload_media", security(("bearer" = [])),
    request_body(description = "the image's bytes, streamed; `Content-Type` names its type",
        content(("image/jpeg"), ("image/png"), ("image/webp"), ("image/gif"))),
    responses(
        (status = 202, body = UploadAccepted, headers(("location" = String, description = "the media's URL")),
            links(
                ("media" = (operation_id = "get_media", parameters(("id" = "$response.body#/id")))),
                ("original" = (operation_id = "get_media_content", parameters(("id" = "$response.body#/id"), ("variant" = "original")))),
            )),
        (status = 413, description = "larger than the upload limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "not an accepted image type, or the bytes are not the declared type", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`UPLOAD_BACKLOG_FULL`: too many uploads are waiting to be processed; nothing was stored, retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("retry-after" = u32, description = "seconds to wait before retrying"))),
    ))]
#[tracing::instrument(skip_all, fields(content_type = upload.content_type))]
pub async fn upload(
    State(state): State<MediaState>,
    AuthUser(caller): AuthUser,
    upload: ImageUpload,
) -> Result<impl IntoResponse, ApiError> {
    let media = state
        .client
        .upload(
            caller.user_id.into(),
            upload.content_type.to_owned(),
            upload.body,
        )
        .await?;
    let location = state.links.media(&media.id);
    let accepted = UploadAccepted {
        status: media.status().into(),
        id: media.id,
    };
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(accepted),
    ))
}

/// An image's processing state and, once ready, its variants.
#[utoipa::path(get, path = "/v1/media/{id}", tag = "media", operation_id = "get_media", security(("bearer" = [])),
    params(("id" = String, Path, description = "a media id, from the upload")),
    responses(
        (status = 200, body = Media,
            links(
                ("original" = (operation_id = "get_media_content", parameters(("id" = "$response.body#/id"), ("variant" = "original")))),
                ("avatar" = (operation_id = "set_avatar", request_body = json!({"media_id": "$response.body#/id"}))),
            )),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn get(
    State(state): State<MediaState>,
    AuthUser(_): AuthUser,
    ValidPath(id): ValidPath<String>,
) -> Result<Json<Media>, ApiError> {
    Ok(Json(Media::new(state.client.get(&id).await?, &state.links)))
}

/// One variant's bytes. Public, so a CDN can cache them; they never change.
#[utoipa::path(get, path = "/v1/media/{id}/{variant}", tag = "media", operation_id = "get_media_content",
    params(
        ("id" = String, Path, description = "a media id"),
        ("variant" = String, Path, description = "`original` or a size name from the media's `variants`"),
        ("if-none-match" = Option<String>, Header, description = "an ETag from an earlier answer"),
    ),
    responses(
        (status = 200, description = "the image's bytes, in the type it was stored as",
            content(("image/jpeg"), ("image/png"), ("image/webp"), ("image/gif")),
            headers(("etag" = String), ("cache-control" = String))),
        (status = 304, description = "the ETag matches; no body", headers(("etag" = String))),
        (status = 404, description = "no such media or variant, or the media is not ready", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn content(
    State(state): State<MediaState>,
    ValidPath((id, variant)): ValidPath<(String, String)>,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    // Opening the content gives the ETag; a 304 drops the stream unread.
    let content = state.client.content(&id, &variant).await?;
    let etag = HeaderValue::try_from(format!("\"{}\"", content.variant.etag))
        .map_err(|_| ApiError::internal("the media service sent an ETag unfit for a header"))?;
    let validators = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, IMMUTABLE),
    ];
    if none_match(&request_headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, validators).into_response());
    }
    let content_type = HeaderValue::try_from(content.variant.content_type).map_err(|_| {
        ApiError::internal("the media service sent a content type unfit for a header")
    })?;
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_LENGTH, content.variant.size_bytes.into()),
        // User-supplied bytes: browsers must not guess another type for them.
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    Ok((validators, headers, Body::from_stream(content.bytes)).into_response())
}

/// Make one of the caller's ready images their avatar.
#[utoipa::path(put, path = "/v1/users/me/avatar", tag = "users", operation_id = "set_avatar", security(("bearer" = [])), request_body = AvatarChoice,
    responses(
        (status = 200, body = Profile),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such media (`MEDIA_NOT_FOUND`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the media is not ready (`MEDIA_NOT_READY`) or not the caller's (`MEDIA_NOT_YOURS`)", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn set_avatar(
    State(state): State<MediaState>,
    AuthUser(caller): AuthUser,
    ValidJson(choice): ValidJson<AvatarChoice>,
) -> Result<Json<Profile>, ApiError> {
    let request = platform_proto::user::v1::SetAvatarRequest {
        user_id: caller.user_id.into(),
        media_id: choice.media_id,
    };
    let profile = state.users.set_avatar(request).await?;
    Ok(Json(Profile::new(profile, &state.links)))
}

/// `If-None-Match` (RFC 9110 §13.1.2): `*` or any listed tag equal to `etag` under weak
/// comparison.
fn none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let etag = etag.as_bytes();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").as_bytes() == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn if_none_match(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, value.parse().unwrap());
        headers
    }

    #[test]
    fn if_none_match_uses_weak_comparison_over_a_list() {
        let etag = HeaderValue::from_static("\"abc\"");
        assert!(none_match(&if_none_match("\"abc\""), &etag));
        assert!(none_match(&if_none_match("\"x\", W/\"abc\""), &etag));
        assert!(none_match(&if_none_match("*"), &etag));
        assert!(!none_match(&if_none_match("\"abcd\""), &etag));
        assert!(!none_match(&HeaderMap::new(), &etag));
    }

    #[test]
    fn only_a_failed_media_has_an_error() {
        let links = MediaLinks::new("");
        let media = |status: pb::MediaStatus| pb::Media {
            id: "m1".into(),
            status: status.into(),
            error: "DECODE: truncated".into(),
            ..Default::default()
        };
        let failed = Media::new(media(pb::MediaStatus::Failed), &links);
        assert_eq!(failed.error.as_deref(), Some("DECODE: truncated"));
        let pending = Media::new(media(pb::MediaStatus::Pending), &links);
        assert_eq!((pending.error, pending.width), (None, None));
    }
}
