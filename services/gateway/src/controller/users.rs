//! `/v1/users/*`: the caller's own profile, and other users' public profiles. Choosing an
//! avatar is one of the media routes (`crate::media`).

use axum::Json;
use axum::extract::State;
use platform_proto::user::v1 as pb;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::controller::images::{ImageVariant, MediaLinks};
use crate::error::Problem;
use crate::extract::{AuthUser, ValidJson, ValidPath};
use crate::{ApiError, AppState};

/// The caller's own profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub bio: String,
    pub region: String,
    /// The profile picture; `null` until one is set.
    pub avatar: Option<Avatar>,
    /// RFC 3339.
    pub created_at: String,
    pub updated_at: String,
}

/// Another user's profile, as anyone signed in may see it: no email.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicProfile {
    pub id: String,
    pub display_name: String,
    pub bio: String,
    pub region: String,
    pub avatar: Option<Avatar>,
    pub created_at: String,
    pub updated_at: String,
}

/// A profile picture: an uploaded image and the sizes it is served in.
#[derive(Debug, Serialize, ToSchema)]
pub struct Avatar {
    pub media_id: String,
    pub variants: Vec<ImageVariant>,
}

impl Avatar {
    fn new(avatar: pb::Avatar, links: &MediaLinks) -> Self {
        let variants = avatar
            .variants
            .into_iter()
            .map(|v| ImageVariant::new(&avatar.media_id, v.name, v.width, v.height, links))
            .collect();
        Self {
            media_id: avatar.media_id,
            variants,
        }
    }
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// Trimmed; it must contain a visible character.
    #[schema(min_length = 1, max_length = 64)]
    pub display_name: Option<String>,
    /// May span lines.
    #[schema(max_length = 500)]
    pub bio: Option<String>,
}

fn rfc3339(at: Option<prost_types::Timestamp>) -> String {
    at.and_then(|t| {
        let seconds = time::OffsetDateTime::from_unix_timestamp(t.seconds).ok()?;
        let at = seconds + time::Duration::nanoseconds(i64::from(t.nanos));
        at.format(&Rfc3339).ok()
    })
    .unwrap_or_default()
}

impl Profile {
    /// The wire profile, with its avatar's links made from `links`.
    pub fn new(p: pb::Profile, links: &MediaLinks) -> Self {
        Self {
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.updated_at),
            avatar: p.avatar.map(|avatar| Avatar::new(avatar, links)),
            id: p.id,
            email: p.email,
            display_name: p.display_name,
            bio: p.bio,
            region: p.region,
        }
    }
}

impl PublicProfile {
    pub fn new(p: pb::Profile, links: &MediaLinks) -> Self {
        let Profile {
            id,
            display_name,
            bio,
            region,
            avatar,
            created_at,
            updated_at,
            ..
        } = Profile::new(p, links);
        Self {
            id,
            display_name,
            bio,
            region,
            avatar,
            created_at,
            updated_at,
        }
    }
}

/// The caller's profile.
#[utoipa::path(get, path = "/v1/users/me", tag = "users", operation_id = "get_me", security(("bearer" = [])),
    responses(
        (status = 200, body = Profile,
            links(("public_profile" = (operation_id = "get_user", parameters(("id" = "$response.body#/id")))))),
        (status = 404, description = "the profile is not created yet (it follows registration within moments)", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn me(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
) -> Result<Json<Profile>, ApiError> {
    let profile = state.users.get(caller.user_id.as_ref()).await?;
    Ok(Json(Profile::new(profile, &state.links)))
}

/// Change the caller's display name or bio.
#[utoipa::path(patch, path = "/v1/users/me", tag = "users", operation_id = "update_me", security(("bearer" = [])), request_body = ProfilePatch,
    responses(
        (status = 200, body = Profile),
        (status = 400, description = "a field is invalid; `errors` names it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "the profile is not created yet (it follows registration within moments)", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn update_me(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    ValidJson(patch): ValidJson<ProfilePatch>,
) -> Result<Json<Profile>, ApiError> {
    let request = pb::UpdateProfileRequest {
        user_id: caller.user_id.into(),
        display_name: patch.display_name,
        bio: patch.bio,
    };
    let profile = state.users.update(request).await?;
    Ok(Json(Profile::new(profile, &state.links)))
}

/// Another user's public profile.
#[utoipa::path(get, path = "/v1/users/{id}", tag = "users", operation_id = "get_user", security(("bearer" = [])),
    params(("id" = String, Path, description = "a user id, e.g. `eu_0192f4c1…`")),
    responses(
        (status = 200, body = PublicProfile),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn get(
    State(state): State<AppState>,
    AuthUser(_): AuthUser,
    ValidPath(id): ValidPath<String>,
) -> Result<Json<PublicProfile>, ApiError> {
    Ok(Json(PublicProfile::new(
        state.users.get(&id).await?,
        &state.links,
    )))
}
