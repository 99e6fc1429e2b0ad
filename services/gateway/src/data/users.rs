//! The user service's gRPC client, built the one platform way.

use pb::user_service_client::UserServiceClient;
use platform_grpc::GrpcChannel;
use platform_proto::user::v1 as pb;

#[derive(Clone)]
pub struct UserClient {
    inner: UserServiceClient<GrpcChannel>,
    channel: GrpcChannel,
}

impl UserClient {
    pub fn new(channel: GrpcChannel) -> Self {
        Self {
            inner: UserServiceClient::new(channel.clone()),
            channel,
        }
    }

    /// A read, so it is retried if the replica it reached went away.
    pub async fn get(&self, user_id: &str) -> Result<pb::Profile, tonic::Status> {
        let request = pb::GetUserRequest {
            user_id: user_id.to_owned(),
        };
        platform_grpc::retry_idempotent_unary(&self.inner, request, async |mut client, request| {
            client.get_user(request).await
        })
        .await
    }

    pub async fn update(
        &self,
        request: pb::UpdateProfileRequest,
    ) -> Result<pb::Profile, tonic::Status> {
        Ok(self
            .inner
            .clone()
            .update_profile(request)
            .await?
            .into_inner())
    }

    pub async fn set_avatar(
        &self,
        request: pb::SetAvatarRequest,
    ) -> Result<pb::Profile, tonic::Status> {
        Ok(self.inner.clone().set_avatar(request).await?.into_inner())
    }

    /// Readiness: does the user service report itself serving?
    pub async fn check(&self) -> Result<(), String> {
        platform_grpc::health_check(self.channel.clone(), "user.v1.UserService").await
    }
}
