//! Access tokens (signed JWTs) and refresh tokens (opaque random strings).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::AuthError;
use crate::config::TokenSettings;
use crate::service::{PublicJwk, SigningKeys};

/// The claims of an access token.
#[derive(Debug, Serialize)]
struct Claims<'a> {
    sub: &'a str,
    region: &'a str,
    iss: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    jti: String,
}

/// Signs access tokens with the current key.
pub struct TokenIssuer {
    keys: SigningKeys,
    issuer: String,
    audience: String,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl TokenIssuer {
    pub fn new(keys: SigningKeys, settings: &TokenSettings) -> Self {
        Self {
            keys,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            access_ttl: settings.access_ttl,
            refresh_ttl: settings.refresh_ttl,
        }
    }

    pub fn access_token(&self, user_id: &str, region: &str) -> Result<String, AuthError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the clock is before 1970")?
            .as_secs();
        let claims = Claims {
            sub: user_id,
            region,
            iss: &self.issuer,
            aud: &self.audience,
            iat: now,
            exp: now + self.access_ttl.as_secs(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        Ok(self.keys.sign(&claims)?)
    }

    pub fn access_ttl_secs(&self) -> u32 {
        u32::try_from(self.access_ttl.as_secs()).unwrap_or(u32::MAX)
    }

    pub fn refresh_ttl(&self) -> Duration {
        self.refresh_ttl
    }

    pub fn public_keys(&self) -> Vec<PublicJwk> {
        self.keys.public_keys()
    }
}

/// An opaque refresh token: 256 random bits, base64url (43 characters). Only its SHA-256
/// is stored, so a database leak yields no usable token.
pub struct RefreshToken(String);

impl RefreshToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source works");
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn hash(&self) -> Vec<u8> {
        Self::hash_of(&self.0)
    }

    pub fn hash_of(token: &str) -> Vec<u8> {
        Sha256::digest(token.as_bytes()).to_vec()
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_43_url_safe_characters_and_unique() {
        let (a, b) = (RefreshToken::generate(), RefreshToken::generate());
        assert_eq!(a.0.len(), 43);
        assert_ne!(a.0, b.0);
        assert_eq!(a.hash().len(), 32);
    }
}
