//! `user.v1.UserService`: validates each RPC and calls [`Profiles`] or [`Avatars`].

use std::sync::Arc;

use platform_proto::user::v1 as pb;
use tonic::{Request, Response, Status};

use crate::UserError;
use crate::data::{Avatar, Profile};
use crate::error::FieldViolation;
use crate::service::{Avatars, ProfilePatch, Profiles};

pub const DISPLAY_NAME_MAX_CHARS: usize = 64;
pub const BIO_MAX_CHARS: usize = 500;
/// A batch is for one page of a list view; more is a client bug or abuse.
pub const BATCH_MAX_IDS: usize = 100;
/// Media ids are UUIDs; anything much longer is not one, and is not sent on.
pub const MEDIA_ID_MAX_CHARS: usize = 64;

pub struct UserController {
    profiles: Arc<Profiles>,
    avatars: Arc<Avatars>,
}

impl UserController {
    pub fn new(profiles: Arc<Profiles>, avatars: Arc<Avatars>) -> Self {
        Self { profiles, avatars }
    }
}

fn timestamp(at: time::OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.unix_timestamp(),
        nanos: i32::try_from(at.nanosecond()).unwrap_or(0),
    }
}

fn to_wire(profile: Profile) -> pb::Profile {
    pb::Profile {
        created_at: Some(timestamp(profile.created_at)),
        updated_at: Some(timestamp(profile.updated_at)),
        id: profile.id,
        email: profile.email,
        display_name: profile.display_name,
        bio: profile.bio,
        region: profile.region,
        avatar: profile.avatar.map(avatar_to_wire),
    }
}

fn avatar_to_wire(avatar: Avatar) -> pb::Avatar {
    pb::Avatar {
        media_id: avatar.media_id,
        variants: avatar
            .variants
            .into_iter()
            .map(|v| pb::AvatarVariant {
                name: v.name,
                width: v.width,
                height: v.height,
            })
            .collect(),
    }
}

fn media_id(raw: &str) -> Result<&str, UserError> {
    let description = if raw.is_empty() {
        "is required"
    } else if raw.chars().count() > MEDIA_ID_MAX_CHARS || raw.chars().any(char::is_control) {
        "is not a media id"
    } else {
        return Ok(raw);
    };
    Err(UserError::InvalidInput(vec![FieldViolation {
        field: "media_id",
        description: description.to_owned(),
    }]))
}

fn patch(request: pb::UpdateProfileRequest) -> Result<ProfilePatch, UserError> {
    let mut violations = Vec::new();
    let display_name = request.display_name.map(|name| name.trim().to_owned());
    if let Some(name) = &display_name {
        let description = if name.is_empty() {
            Some("must not be empty".to_owned())
        } else if name.chars().count() > DISPLAY_NAME_MAX_CHARS {
            Some(format!(
                "must be at most {DISPLAY_NAME_MAX_CHARS} characters"
            ))
        } else if name.chars().any(char::is_control) {
            Some("must not contain control characters".to_owned())
        } else {
            None
        };
        if let Some(description) = description {
            violations.push(FieldViolation {
                field: "display_name",
                description,
            });
        }
    }
    if let Some(bio) = &request.bio
        && bio.chars().count() > BIO_MAX_CHARS
    {
        violations.push(FieldViolation {
            field: "bio",
            description: format!("must be at most {BIO_MAX_CHARS} characters"),
        });
    }
    if violations.is_empty() {
        Ok(ProfilePatch {
            display_name,
            bio: request.bio,
        })
    } else {
        Err(UserError::InvalidInput(violations))
    }
}

#[tonic::async_trait]
impl pb::user_service_server::UserService for UserController {
    #[tracing::instrument(skip_all)]
    async fn get_user(
        &self,
        request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::Profile>, Status> {
        let profile = self.profiles.get(&request.into_inner().user_id).await?;
        Ok(Response::new(to_wire(profile)))
    }

    #[tracing::instrument(skip_all)]
    async fn batch_get_users(
        &self,
        request: Request<pb::BatchGetUsersRequest>,
    ) -> Result<Response<pb::BatchGetUsersResponse>, Status> {
        let ids = request.into_inner().user_ids;
        if ids.len() > BATCH_MAX_IDS {
            return Err(UserError::InvalidInput(vec![FieldViolation {
                field: "user_ids",
                description: format!("at most {BATCH_MAX_IDS} per call"),
            }])
            .into());
        }
        let profiles = self.profiles.get_many(&ids).await?;
        Ok(Response::new(pb::BatchGetUsersResponse {
            profiles: profiles.into_iter().map(to_wire).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn update_profile(
        &self,
        request: Request<pb::UpdateProfileRequest>,
    ) -> Result<Response<pb::Profile>, Status> {
        let request = request.into_inner();
        let user_id = request.user_id.clone();
        let profile = self.profiles.update(&user_id, patch(request)?).await?;
        Ok(Response::new(to_wire(profile)))
    }

    #[tracing::instrument(skip_all)]
    async fn set_avatar(
        &self,
        request: Request<pb::SetAvatarRequest>,
    ) -> Result<Response<pb::Profile>, Status> {
        let request = request.into_inner();
        let media_id = media_id(&request.media_id)?;
        let profile = self.avatars.set(&request.user_id, media_id).await?;
        Ok(Response::new(to_wire(profile)))
    }
}
