//! Access-token verification, done locally: a signature check against the cached JWKS,
//! the algorithm pinned to EdDSA, and `iss`, `aud` and `exp` required and checked.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, Validation};
use platform_domain::{Region, UserId};
use serde::Deserialize;

use crate::config::TokenSettings;
use crate::data::JwksCache;

/// Why a token was refused, or could not be checked (the keys could not be had). The HTTP
/// answer is chosen once, in `crate::error`.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the access token is malformed")]
    Malformed,
    #[error("the access token's algorithm is not accepted")]
    AlgorithmRefused,
    #[error("the access token names no key")]
    NoKey,
    #[error("the access token was signed by an unknown key")]
    UnknownKey,
    #[error("the access token is invalid or expired")]
    Invalid,
    /// Auth's keys could not be fetched: not the token's fault.
    #[error("the signing keys could not be fetched: {}", .0.message())]
    Keys(#[from] tonic::Status),
}

/// Who a valid access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub region: Region,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    region: String,
}

pub struct TokenVerifier {
    jwks: Arc<JwksCache>,
    validation: Validation,
}

impl TokenVerifier {
    pub fn new(jwks: Arc<JwksCache>, settings: &TokenSettings) -> Self {
        // One algorithm only: a token cannot choose how it is verified (no `none`, and no
        // HS256 "signed" with our public key).
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        Self { jwks, validation }
    }

    pub async fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::AlgorithmRefused);
        }
        let kid = header.kid.ok_or(TokenError::NoKey)?;
        let key = self.jwks.key(&kid).await?.ok_or(TokenError::UnknownKey)?;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation).map_err(|e| {
            tracing::debug!(error = %e, "access token refused");
            TokenError::Invalid
        })?;
        // Auth mints only well-formed claims; a signed token with others is refused all the same.
        let principal = UserId::parse(&data.claims.sub)
            .ok()
            .zip(Region::parse(&data.claims.region).ok())
            .map(|(user_id, region)| Principal { user_id, region });
        principal.ok_or(TokenError::Invalid)
    }
}
