//! The auth service's gRPC client, built the one platform way (deadline, balancing, context).

use pb::auth_service_client::AuthServiceClient;
use platform_grpc::GrpcChannel;
use platform_proto::auth::v1 as pb;

/// A cheap-to-clone handle on the auth service.
#[derive(Clone)]
pub struct AuthClient {
    inner: AuthServiceClient<GrpcChannel>,
    channel: GrpcChannel,
}

impl AuthClient {
    pub fn new(channel: GrpcChannel) -> Self {
        Self {
            inner: AuthServiceClient::new(channel.clone()),
            channel,
        }
    }

    pub async fn register(
        &self,
        request: pb::RegisterRequest,
    ) -> Result<pb::RegisterResponse, tonic::Status> {
        Ok(self.inner.clone().register(request).await?.into_inner())
    }

    pub async fn login(&self, request: pb::LoginRequest) -> Result<pb::TokenPair, tonic::Status> {
        Ok(self.inner.clone().login(request).await?.into_inner())
    }

    pub async fn refresh(&self, refresh_token: String) -> Result<pb::TokenPair, tonic::Status> {
        let request = pb::RefreshRequest { refresh_token };
        Ok(self.inner.clone().refresh(request).await?.into_inner())
    }

    pub async fn logout(&self, refresh_token: String) -> Result<(), tonic::Status> {
        let request = pb::LogoutRequest { refresh_token };
        self.inner.clone().logout(request).await?;
        Ok(())
    }

    /// A read, so it is retried if the replica it reached went away. Register, login,
    /// refresh and logout change state and are never retried here.
    pub async fn jwks(&self) -> Result<Vec<pb::Jwk>, tonic::Status> {
        let jwks = platform_grpc::retry_idempotent_unary(
            &self.inner,
            pb::GetJwksRequest {},
            async |mut client, request| client.get_jwks(request).await,
        )
        .await?;
        Ok(jwks.keys)
    }

    /// Readiness: does auth report itself serving?
    pub async fn check(&self) -> Result<(), String> {
        platform_grpc::health_check(self.channel.clone(), "auth.v1.AuthService").await
    }
}
