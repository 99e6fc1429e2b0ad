//! `auth.v1.AuthService`: turns each RPC into a call on [`Accounts`].

use std::sync::Arc;

use platform_domain::Region;
use platform_proto::auth::v1 as pb;
use tonic::{Request, Response, Status};

use crate::service::validation::{self, RegistrationForm};
use crate::service::{Accounts, Session};

pub struct AuthController {
    accounts: Arc<Accounts>,
    regions: Vec<Region>,
}

impl AuthController {
    pub fn new(accounts: Arc<Accounts>, regions: Vec<Region>) -> Self {
        Self { accounts, regions }
    }
}

fn token_pair(session: Session) -> pb::TokenPair {
    pb::TokenPair {
        access_token: session.access_token,
        refresh_token: session.refresh_token,
        expires_in: session.expires_in,
        user_id: session.user_id,
    }
}

#[tonic::async_trait]
impl pb::auth_service_server::AuthService for AuthController {
    #[tracing::instrument(skip_all)]
    async fn register(
        &self,
        request: Request<pb::RegisterRequest>,
    ) -> Result<Response<pb::RegisterResponse>, Status> {
        let request = request.into_inner();
        let form = RegistrationForm {
            email: request.email,
            password: request.password,
            display_name: request.display_name,
            region: request.region,
        };
        let registration = validation::registration(form, &self.regions)?;
        let session = self.accounts.register(registration).await?;
        Ok(Response::new(pb::RegisterResponse {
            user_id: session.user_id.clone(),
            tokens: Some(token_pair(session)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::TokenPair>, Status> {
        let request = request.into_inner();
        let login = validation::login(&request.email, request.password, request.client_address);
        let session = self.accounts.login(login).await?;
        Ok(Response::new(token_pair(session)))
    }

    #[tracing::instrument(skip_all)]
    async fn refresh(
        &self,
        request: Request<pb::RefreshRequest>,
    ) -> Result<Response<pb::TokenPair>, Status> {
        let request = request.into_inner();
        let token = validation::refresh_token(&request.refresh_token)?;
        let session = self.accounts.refresh(token).await?;
        Ok(Response::new(token_pair(session)))
    }

    #[tracing::instrument(skip_all)]
    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        // Logging out with a token that is already dead is not an error: the session is over.
        if let Ok(token) = validation::refresh_token(&request.into_inner().refresh_token) {
            self.accounts.logout(token).await?;
        }
        Ok(Response::new(pb::LogoutResponse {}))
    }

    #[tracing::instrument(skip_all)]
    async fn get_jwks(
        &self,
        _: Request<pb::GetJwksRequest>,
    ) -> Result<Response<pb::GetJwksResponse>, Status> {
        let keys = self
            .accounts
            .public_keys()
            .into_iter()
            .map(|k| pb::Jwk {
                kid: k.kid,
                kty: k.kty.into(),
                crv: k.crv.into(),
                x: k.x,
                alg: k.alg.into(),
            })
            .collect();
        Ok(Response::new(pb::GetJwksResponse { keys }))
    }
}
