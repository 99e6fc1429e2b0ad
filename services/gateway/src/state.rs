//! The state every handler reads through `State<AppState>`.

use std::sync::Arc;

use crate::controller::media::MediaLinks;
use crate::data::{AuthClient, JwksCache, MediaClient, UserClient};
use crate::service::TokenVerifier;

#[derive(Clone)]
pub struct AppState {
    pub auth: AuthClient,
    pub users: UserClient,
    pub media: MediaClient,
    /// How image links in answers are built (`GATEWAY_PUBLIC_URL`).
    pub links: MediaLinks,
    /// The largest image `POST /v1/media` accepts (`GATEWAY_MAX_UPLOAD_BYTES`).
    pub max_upload_bytes: u64,
    pub jwks: Arc<JwksCache>,
    pub verifier: Arc<TokenVerifier>,
    /// Take the client address from `X-Forwarded-For` (set only behind a trusted proxy).
    pub trust_forwarded_for: bool,
}
