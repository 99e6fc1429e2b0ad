//! The auth service's public keys, cached.
//!
//! Keys are fetched on first use and again when the cache is older than the refresh
//! interval. A token naming an unknown `kid` (a key rotated in since the last fetch) causes
//! a fetch too, but at most once per `min_refetch` interval, so a flood of tokens with
//! made-up kids cannot turn into a flood of calls to auth. Concurrent fetches coalesce.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use serde::Serialize;

use crate::config::TokenSettings;
use crate::data::AuthClient;

/// One public key as served at `/.well-known/jwks.json`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Jwk {
    pub kid: String,
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub usage: String,
}

/// The JWKS document (RFC 7517).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

struct Snapshot {
    keys: HashMap<String, DecodingKey>,
    document: Arc<JwkSet>,
    fetched_at: Instant,
}

pub struct JwksCache {
    auth: AuthClient,
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    /// Held while fetching, so concurrent misses wait for one fetch instead of each making one.
    fetching: tokio::sync::Mutex<Option<Instant>>,
    refresh_interval: Duration,
    min_refetch: Duration,
}

impl JwksCache {
    pub fn new(auth: AuthClient, settings: &TokenSettings) -> Self {
        Self {
            auth,
            snapshot: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(None),
            refresh_interval: settings.jwks_refresh_interval,
            min_refetch: settings.jwks_min_refetch_interval,
        }
    }

    /// The key named `kid`, fetching the JWKS again if it is unknown (rate-limited).
    pub async fn key(&self, kid: &str) -> Result<Option<DecodingKey>, tonic::Status> {
        if let Some(snapshot) = self.fresh()
            && let Some(key) = snapshot.keys.get(kid)
        {
            return Ok(Some(key.clone()));
        }
        let snapshot = self.fetch(true).await?;
        Ok(snapshot.keys.get(kid).cloned())
    }

    /// The JWKS document, for `/.well-known/jwks.json`.
    pub async fn document(&self) -> Result<Arc<JwkSet>, tonic::Status> {
        match self.fresh() {
            Some(snapshot) => Ok(snapshot.document.clone()),
            None => Ok(self.fetch(false).await?.document.clone()),
        }
    }

    fn current(&self) -> Option<Arc<Snapshot>> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn fresh(&self) -> Option<Arc<Snapshot>> {
        self.current()
            .filter(|s| s.fetched_at.elapsed() < self.refresh_interval)
    }

    /// Fetches unless another caller just did. `rate_limited` fetches (unknown kid) happen at
    /// most once per `min_refetch` while a snapshot exists.
    async fn fetch(&self, rate_limited: bool) -> Result<Arc<Snapshot>, tonic::Status> {
        let started_waiting = Instant::now();
        let mut last_attempt = self.fetching.lock().await;
        if let Some(snapshot) = self.current() {
            let fetched_while_waiting = snapshot.fetched_at >= started_waiting;
            let too_soon =
                rate_limited && last_attempt.is_some_and(|at| at.elapsed() < self.min_refetch);
            let still_fresh =
                !rate_limited && snapshot.fetched_at.elapsed() < self.refresh_interval;
            if fetched_while_waiting || too_soon || still_fresh {
                return Ok(snapshot);
            }
        }
        *last_attempt = Some(Instant::now());
        let jwks = self.auth.jwks().await?;
        let mut keys = HashMap::new();
        let mut document = Vec::new();
        for jwk in jwks {
            // Only the one algorithm we accept; anything else is ignored, not trusted.
            if jwk.kty != "OKP" || jwk.crv != "Ed25519" || jwk.alg != "EdDSA" {
                continue;
            }
            let Ok(key) = DecodingKey::from_ed_components(&jwk.x) else {
                tracing::warn!(kid = %jwk.kid, "ignoring a JWK whose x is not base64url");
                continue;
            };
            keys.insert(jwk.kid.clone(), key);
            document.push(Jwk {
                kid: jwk.kid,
                kty: jwk.kty,
                crv: jwk.crv,
                x: jwk.x,
                alg: jwk.alg,
                usage: "sig".into(),
            });
        }
        let snapshot = Arc::new(Snapshot {
            keys,
            document: Arc::new(JwkSet { keys: document }),
            fetched_at: Instant::now(),
        });
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Some(snapshot.clone());
        tracing::debug!(keys = snapshot.keys.len(), "JWKS fetched");
        Ok(snapshot)
    }
}
