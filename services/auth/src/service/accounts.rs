//! Registration, login, refresh-token rotation and logout.

use platform_config::SecretString;
use platform_domain::{DisplayName, Email, Region, UserId};

use crate::AuthError;
use crate::data::{
    Credentials, LoginThrottle, NewCredential, Outcome, RefreshTokens, Rotation, StoredCredential,
};
use crate::service::{Passwords, PublicJwk, RefreshToken, TokenIssuer};

/// A validated sign-up.
pub struct Registration {
    pub email: Email,
    pub password: SecretString,
    pub display_name: DisplayName,
    pub region: Region,
}

/// A login attempt; `client_address` is who to blame when it fails.
pub struct Login {
    pub email: String,
    pub password: SecretString,
    pub client_address: String,
}

/// What a successful register, login or refresh hands back.
pub struct Session {
    pub user_id: String,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u32,
}

pub struct Accounts {
    credentials: Credentials,
    refresh_tokens: RefreshTokens,
    throttle: LoginThrottle,
    passwords: Passwords,
    issuer: TokenIssuer,
}

impl Accounts {
    pub fn new(
        credentials: Credentials,
        refresh_tokens: RefreshTokens,
        throttle: LoginThrottle,
        passwords: Passwords,
        issuer: TokenIssuer,
    ) -> Self {
        Self {
            credentials,
            refresh_tokens,
            throttle,
            passwords,
            issuer,
        }
    }

    /// Creates the credentials and the first session in one transaction.
    #[tracing::instrument(skip_all, fields(region = %registration.region))]
    pub async fn register(&self, registration: Registration) -> Result<Session, AuthError> {
        let password_hash = self.passwords.hash(registration.password).await?;
        let user_id = UserId::generate(&registration.region);
        let refresh = RefreshToken::generate();
        let credential = NewCredential {
            user_id: &user_id,
            email: &registration.email,
            password_hash: &password_hash,
            region: &registration.region,
        };
        self.credentials
            .register(
                &credential,
                &registration.display_name,
                &refresh.hash(),
                self.issuer.refresh_ttl(),
            )
            .await?;
        tracing::info!(%user_id, "registered");
        self.session(user_id.into(), registration.region.as_ref(), refresh)
    }

    /// Checks the password, in this order: the throttle takes an attempt (or refuses), the
    /// password is hashed, the outcome goes back to the throttle. Unknown emails cost one hash
    /// too, so timing does not tell which emails exist. The throttle's keys come from the same
    /// normalised email the account is looked up by, so every spelling of it meets the same limits.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, login: Login) -> Result<Session, AuthError> {
        let Login {
            email,
            password,
            client_address,
        } = login;
        let attempt = self.throttle.begin(&email, &client_address).await?;
        let checked = self.check_password(&email, password).await;
        let outcome = match &checked {
            Ok(Some(_)) => Outcome::Succeeded,
            Ok(None) => Outcome::Failed,
            Err(_) => Outcome::Void,
        };
        // The attempt was counted as a failure when it was taken: if Redis misses the outcome,
        // nothing is let through, a success merely stays counted. So the answer does not wait
        // on it being recorded.
        if let Err(e) = self.throttle.settle(attempt, outcome).await {
            tracing::warn!(error = %e, ?outcome, "the login's outcome was not recorded");
        }
        let Some(credential) = checked? else {
            return Err(AuthError::InvalidCredentials);
        };
        let refresh = RefreshToken::generate();
        self.refresh_tokens
            .start_family(
                &credential.user_id,
                &refresh.hash(),
                self.issuer.refresh_ttl(),
            )
            .await?;
        self.session(credential.user_id, &credential.region, refresh)
    }

    /// The account of `email`, if there is one and `password` is its password.
    async fn check_password(
        &self,
        email: &str,
        password: SecretString,
    ) -> Result<Option<StoredCredential>, AuthError> {
        let stored = self.credentials.find_by_email(email).await?;
        let hash = stored.as_ref().map(|c| c.password_hash.clone());
        let verified = self.passwords.verify(password, hash).await?;
        Ok(stored.filter(|_| verified))
    }

    /// Spends `token` and issues the next one in its family. A spent token presented again
    /// means it leaked: the whole family is revoked.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, token: &str) -> Result<Session, AuthError> {
        let next = RefreshToken::generate();
        let rotation = self
            .refresh_tokens
            .rotate(
                &RefreshToken::hash_of(token),
                &next.hash(),
                self.issuer.refresh_ttl(),
            )
            .await?;
        match rotation {
            Rotation::Rotated { user_id, region } => self.session(user_id, &region, next),
            Rotation::ReuseDetected { user_id } => {
                tracing::warn!(
                    user_id,
                    "a spent refresh token was reused; its family is revoked"
                );
                Err(AuthError::InvalidRefreshToken)
            }
            Rotation::Invalid => Err(AuthError::InvalidRefreshToken),
        }
    }

    /// Revokes the session `token` belongs to. Unknown tokens are ignored.
    #[tracing::instrument(skip_all)]
    pub async fn logout(&self, token: &str) -> Result<(), AuthError> {
        self.refresh_tokens
            .revoke_family_of(&RefreshToken::hash_of(token))
            .await
    }

    pub fn public_keys(&self) -> Vec<PublicJwk> {
        self.issuer.public_keys()
    }

    fn session(
        &self,
        user_id: String,
        region: &str,
        refresh: RefreshToken,
    ) -> Result<Session, AuthError> {
        let access_token = self.issuer.access_token(&user_id, region)?;
        Ok(Session {
            user_id,
            access_token,
            refresh_token: refresh.into_string(),
            expires_in: self.issuer.access_ttl_secs(),
        })
    }
}
