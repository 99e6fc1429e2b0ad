//! `user.v1.UserService`: validates each RPC and calls [`Profiles`]; `SetAvatar` is served by
//! the avatars module when the service has one ([`SetAvatar`]).

use std::sync::Arc;

use platform_proto::user::v1 as pb;
use tonic::{Request, Response, Status};

use crate::service::{Avatar, Profile, Profiles, validation};

pub struct UserController {
    profiles: Arc<Profiles>,
    avatars: Option<Arc<dyn SetAvatar>>,
}

/// The `SetAvatar` RPC, answered by the avatars part (`crate::parts`). Only it needs
/// the media service, so a build without it answers `UNIMPLEMENTED` and serves the rest.
#[tonic::async_trait]
pub trait SetAvatar: Send + Sync + 'static {
    /// `request.media_id` becomes `request.user_id`'s avatar; returns the updated profile.
    async fn set_avatar(&self, request: pb::SetAvatarRequest) -> Result<Profile, Status>;
}

impl UserController {
    /// A controller without avatars; see [`UserController::with_avatars`].
    pub fn new(profiles: Arc<Profiles>) -> Self {
        Self {
            profiles,
            avatars: None,
        }
    }

    /// The same controller, answering `SetAvatar` with `avatars`.
    pub fn with_avatars(self, avatars: Arc<dyn SetAvatar>) -> Self {
        Self {
            avatars: Some(avatars),
            ..self
        }
    }
}

fn timestamp(at: time::OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.unix_timestamp(),
        nanos: i32::try_from(at.nanosecond()).unwrap_or(0),
    }
}

/// A profile as `user.v1` spells it.
impl From<Profile> for pb::Profile {
    fn from(profile: Profile) -> Self {
        Self {
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
        Ok(Response::new(profile.into()))
    }

    #[tracing::instrument(skip_all)]
    async fn batch_get_users(
        &self,
        request: Request<pb::BatchGetUsersRequest>,
    ) -> Result<Response<pb::BatchGetUsersResponse>, Status> {
        let ids = request.into_inner().user_ids;
        let profiles = self.profiles.get_many(validation::batch(&ids)?).await?;
        Ok(Response::new(pb::BatchGetUsersResponse {
            profiles: profiles.into_iter().map(pb::Profile::from).collect(),
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
        Ok(Response::new(profile.into()))
    }

    #[tracing::instrument(skip_all)]
    async fn set_avatar(
        &self,
        request: Request<pb::SetAvatarRequest>,
    ) -> Result<Response<pb::Profile>, Status> {
        let Some(avatars) = &self.avatars else {
            return Err(Status::unimplemented(
                "avatars need the media service, which this deployment does not run",
            ));
        };
        let profile = avatars.set_avatar(request.into_inner()).await?;
        Ok(Response::new(profile.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Settings;
    use crate::data::{ProfileCache, ProfileStore, Shards};
    use pb::user_service_server::UserService as _;

    /// The controller of a build without the avatars part (`UserController::new` alone), over
    /// stores that are never reached: nothing listens at port 1.
    fn without_avatars() -> UserController {
        let settings = Settings::for_tests(
            &[("eu", "postgres://postgres@127.0.0.1:1/none")],
            "redis://127.0.0.1:1",
            "test:",
            "127.0.0.1:1",
        );
        let shards = Shards::connect(&settings.shards, &settings.database).unwrap();
        let redis = platform_redis::connect(&settings.redis).unwrap();
        UserController::new(Arc::new(Profiles::new(
            ProfileStore::new(shards),
            ProfileCache::new(redis, &settings.redis.key_prefix, &settings.cache),
        )))
    }

    #[tokio::test]
    async fn without_avatars_set_avatar_is_unimplemented() {
        let request = Request::new(pb::SetAvatarRequest {
            user_id: "eu_0192".into(),
            media_id: "m1".into(),
        });
        let status = without_avatars().set_avatar(request).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unimplemented);
        assert!(status.message().contains("media service"), "{status:?}");
    }
}
