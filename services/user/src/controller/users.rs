//! `user.v1.UserService`: validates each RPC and calls [`Profiles`] or [`Avatars`].

use std::sync::Arc;

use platform_proto::user::v1 as pb;
use tonic::{Request, Response, Status};

use crate::service::{Avatar, Avatars, Profile, Profiles, validation};

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
        let profiles = self.profiles.get_many(validation::batch(&ids)?).await?;
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
        let patch = validation::patch(request.display_name, request.bio)?;
        let profile = self.profiles.update(&request.user_id, patch).await?;
        Ok(Response::new(to_wire(profile)))
    }

    #[tracing::instrument(skip_all)]
    async fn set_avatar(
        &self,
        request: Request<pb::SetAvatarRequest>,
    ) -> Result<Response<pb::Profile>, Status> {
        let request = request.into_inner();
        let media_id = validation::media_id(&request.media_id)?;
        let profile = self.avatars.set(&request.user_id, media_id).await?;
        Ok(Response::new(to_wire(profile)))
    }
}
