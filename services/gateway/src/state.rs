//! The state every handler reads through `State<AppState>`.

use std::sync::Arc;

use crate::data::{AuthClient, JwksCache, UserClient};
use crate::service::TokenVerifier;

#[derive(Clone)]
pub struct AppState {
    pub auth: AuthClient,
    pub users: UserClient,
    pub jwks: Arc<JwksCache>,
    pub verifier: Arc<TokenVerifier>,
    /// Take the client address from `X-Forwarded-For` (set only behind a trusted proxy).
    pub trust_forwarded_for: bool,
}
