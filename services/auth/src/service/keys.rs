//! The Ed25519 keys that sign access tokens, and their public halves as JWKs.
//!
//! Rotation without downtime: deploy the new private key as `AUTH_SIGNING_KEY` and the old
//! key's public half as `AUTH_PREVIOUS_PUBLIC_KEY`. The JWKS then holds both, so tokens
//! signed before the switch keep verifying until they expire; at the next rotation the old
//! one drops out and its tokens stop verifying.

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use platform_config::ExposeSecret as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::config::TokenSettings;

/// A public key in JWK form (RFC 8037 `OKP` / `Ed25519`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicJwk {
    pub kid: String,
    pub kty: &'static str,
    pub crv: &'static str,
    pub x: String,
    pub alg: &'static str,
}

impl PublicJwk {
    fn of(key: &VerifyingKey) -> Self {
        let x = URL_SAFE_NO_PAD.encode(key.as_bytes());
        // RFC 7638 thumbprint: the kid follows from the key, so it can never mismatch.
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        Self {
            kid,
            kty: "OKP",
            crv: "Ed25519",
            x,
            alg: "EdDSA",
        }
    }
}

pub struct SigningKeys {
    encoding: EncodingKey,
    current: PublicJwk,
    previous: Option<PublicJwk>,
}

impl SigningKeys {
    /// The configured keys, or a throwaway key when none is configured (local runs only).
    pub fn load(settings: &TokenSettings) -> anyhow::Result<Self> {
        let previous = settings
            .previous_public_key_pem
            .as_deref()
            .map(|pem| {
                VerifyingKey::from_public_key_pem(pem)
                    .context("AUTH_PREVIOUS_PUBLIC_KEY is not an Ed25519 public key in SPKI PEM")
            })
            .transpose()?;
        let signing = match &settings.signing_key_pem {
            Some(pem) => SigningKey::from_pkcs8_pem(pem.expose_secret())
                .context("AUTH_SIGNING_KEY is not an Ed25519 private key in PKCS#8 PEM")?,
            None => {
                tracing::warn!(
                    "!!! NO SIGNING KEY CONFIGURED: generated a throwaway Ed25519 key. Tokens will not \
                     survive a restart and replicas will not agree. Set AUTH_SIGNING_KEY_FILE outside \
                     local development !!!"
                );
                random_signing_key()?
            }
        };
        Self::new(&signing, previous.as_ref())
    }

    /// A new random Ed25519 private key in PKCS#8 PEM, the form `AUTH_SIGNING_KEY_FILE` holds
    /// (the native run keeps one on disk so tokens survive its restarts).
    ///
    /// ```
    /// let pem = auth_service::service::SigningKeys::generate_pem().unwrap();
    /// assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    /// ```
    pub fn generate_pem() -> anyhow::Result<String> {
        let pem = random_signing_key()?
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .context("encoding the signing key")?;
        Ok(pem.as_str().to_owned())
    }

    fn new(signing: &SigningKey, previous: Option<&VerifyingKey>) -> anyhow::Result<Self> {
        let der = signing.to_pkcs8_der().context("encoding the signing key")?;
        Ok(Self {
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            current: PublicJwk::of(&signing.verifying_key()),
            previous: previous.map(PublicJwk::of),
        })
    }

    /// Signs `claims` with the current key, naming it in the header's `kid`.
    pub fn sign(&self, claims: &impl Serialize) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.current.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).context("signing an access token")
    }

    /// The JWKS content: the current key first, then the previous one if configured.
    pub fn public_keys(&self) -> Vec<PublicJwk> {
        std::iter::once(self.current.clone())
            .chain(self.previous.clone())
            .collect()
    }
}

fn random_signing_key() -> anyhow::Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).context("reading the OS random source")?;
    Ok(SigningKey::from_bytes(&seed))
}
