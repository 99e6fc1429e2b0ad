//! Access-token verification, done locally: a signature check against the cached JWKS,
//! the algorithm pinned to EdDSA, and `iss`, `aud` and `exp` required and checked.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use crate::ApiError;
use crate::config::TokenSettings;
use crate::data::JwksCache;

/// Who a valid access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub region: String,
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

    pub async fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| ApiError::unauthorized("the access token is malformed"))?;
        if header.alg != Algorithm::EdDSA {
            return Err(ApiError::unauthorized(
                "the access token's algorithm is not accepted",
            ));
        }
        let kid = header
            .kid
            .ok_or_else(|| ApiError::unauthorized("the access token names no key"))?;
        let key = self.jwks.key(&kid).await?.ok_or_else(|| {
            ApiError::unauthorized("the access token was signed by an unknown key")
        })?;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation).map_err(|e| {
            tracing::debug!(error = %e, "access token refused");
            ApiError::unauthorized("the access token is invalid or expired")
        })?;
        Ok(Principal {
            user_id: data.claims.sub,
            region: data.claims.region,
        })
    }
}
