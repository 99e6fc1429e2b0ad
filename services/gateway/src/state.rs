//! The state every handler reads through `State<AppState>`.

use std::sync::Arc;

use axum::extract::FromRef;
use platform_ratelimit::RateLimiter;
use utoipa::openapi::OpenApi;

use crate::contract::RequestSchemas;
use crate::controller::images::MediaLinks;
use crate::data::{AuthClient, JwksCache, UserClient};
use crate::service::TokenVerifier;
use crate::{Settings, rate_limit};

#[derive(Clone)]
pub struct AppState {
    pub auth: AuthClient,
    pub users: UserClient,
    /// How image links in answers are built (`GATEWAY_PUBLIC_URL`).
    pub links: MediaLinks,
    pub jwks: Arc<JwksCache>,
    pub verifier: Arc<TokenVerifier>,
    /// The request bodies' schemas, from the OpenAPI document (see `contract`).
    pub contract: Arc<RequestSchemas>,
    /// Proxies in front that append to `X-Forwarded-For` (`GATEWAY_TRUSTED_PROXY_HOPS`).
    pub trusted_proxy_hops: usize,
    /// Per-client limits, counted in Redis across replicas (see `rate_limit`).
    pub limiter: RateLimiter,
}

impl AppState {
    /// The clients, caches and checks the handlers share, from the settings; nothing is
    /// contacted yet. `document` is the OpenAPI document the request bodies are held to.
    pub fn new(settings: &Settings, document: &OpenApi) -> anyhow::Result<Self> {
        let auth = AuthClient::new(platform_grpc::connect(&settings.auth)?);
        let jwks = Arc::new(JwksCache::new(auth.clone(), &settings.tokens));
        Ok(Self {
            verifier: Arc::new(TokenVerifier::new(jwks.clone(), &settings.tokens)),
            auth,
            users: UserClient::new(platform_grpc::connect(&settings.users)?),
            links: MediaLinks::new(&settings.public_url),
            jwks,
            trusted_proxy_hops: settings.http.trusted_proxy_hops,
            limiter: rate_limit::limiter(settings)?,
            contract: Arc::new(RequestSchemas::compile(document)?),
        })
    }
}

// What the shared extractors (`AuthUser`, `ValidJson`) take from a router's state; a
// sub-router with a state of its own (the media routes) provides the same.
impl FromRef<AppState> for Arc<TokenVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

impl FromRef<AppState> for Arc<RequestSchemas> {
    fn from_ref(state: &AppState) -> Self {
        state.contract.clone()
    }
}
