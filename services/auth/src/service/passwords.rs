//! Password hashing with argon2id, on a bounded pool off the async runtime's threads.
//!
//! One hash costs about 19 MiB and tens of milliseconds of one core by design. Running it
//! on a runtime worker would stall every other request on that worker, so hashes run on
//! tokio's blocking pool, at most `concurrency` at once (which also bounds memory).

use std::sync::Arc;

use anyhow::Context as _;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use platform_config::{ExposeSecret as _, SecretString};
use tokio::sync::Semaphore;

use crate::AuthError;

/// OWASP's first recommended argon2id setting: m = 19 MiB, t = 2, p = 1.
/// <https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html>
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

pub struct Passwords {
    permits: Arc<Semaphore>,
    /// Verified against when the email is unknown, so both paths cost one hash.
    dummy_hash: Arc<str>,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("the OWASP parameters are valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl Passwords {
    pub fn new(concurrency: usize) -> anyhow::Result<Self> {
        let dummy_hash = argon2()
            .hash_password(b"a password nobody has")
            .map_err(|e| anyhow::anyhow!("hashing the dummy password: {e}"))?
            .to_string();
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) with a fresh random salt.
    pub async fn hash(&self, password: SecretString) -> Result<String, AuthError> {
        self.run(move || {
            argon2()
                .hash_password(password.expose_secret().as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|e| AuthError::Unexpected(anyhow::anyhow!("argon2 hashing failed: {e}")))
        })
        .await?
    }

    /// Whether `password` matches `hash`; with no hash, checks a dummy and answers false.
    pub async fn verify(
        &self,
        password: SecretString,
        hash: Option<String>,
    ) -> Result<bool, AuthError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let matches = self
            .run(move || {
                argon2()
                    .verify_password(password.expose_secret().as_bytes(), hash.as_str())
                    .is_ok()
            })
            .await?;
        Ok(known && matches)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .context("the hashing pool is closed")?;
        let span = tracing::Span::current();
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(work)
        })
        .await
        .context("a hashing task panicked")?;
        Ok(result)
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    /// Made by this module before hashing reused its memory (argon2 0.6's own
    /// `hash_password`): stored hashes like it must keep verifying.
    const KNOWN_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$cbUWuxPgI3N411YtgATVdA$h3iKKLq5rSrtWKnWoBpmjl/0Q9qq0TUCdkn+IDVh+HM";
    const KNOWN_PASSWORD: &str = "correct horse battery staple";

    fn secret(password: &str) -> SecretString {
        SecretString::from(password.to_owned())
    }

    #[tokio::test]
    async fn a_hash_stored_by_the_earlier_implementation_still_verifies() {
        let passwords = Passwords::new(1).unwrap();
        let verified = passwords
            .verify(secret(KNOWN_PASSWORD), Some(KNOWN_HASH.to_owned()))
            .await
            .unwrap();
        assert!(verified);
    }

    #[tokio::test]
    async fn a_wrong_password_does_not_verify() {
        let passwords = Passwords::new(1).unwrap();
        let verified = passwords
            .verify(
                secret("correct horse battery stapler"),
                Some(KNOWN_HASH.to_owned()),
            )
            .await
            .unwrap();
        assert!(!verified);
    }

    #[tokio::test]
    async fn a_new_hash_keeps_the_stored_format_and_verifies() {
        let passwords = Passwords::new(1).unwrap();
        let hash = passwords.hash(secret(KNOWN_PASSWORD)).await.unwrap();

        let fields: Vec<&str> = hash.split('$').collect();
        assert_eq!(
            fields[..4],
            ["", "argon2id", "v=19", "m=19456,t=2,p=1"],
            "{hash}"
        );
        // 16 random salt bytes and a 32-byte output, unpadded base64 as in KNOWN_HASH.
        assert_eq!(
            (fields[4].len(), fields[5].len(), fields.len()),
            (22, 43, 6),
            "{hash}"
        );
        assert_ne!(hash, KNOWN_HASH, "the salt is fresh");
        assert!(
            passwords
                .verify(secret(KNOWN_PASSWORD), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify(secret("another"), Some(hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn hashes_stored_with_other_parameters_verify_with_their_own() {
        use argon2::PasswordHasher as _;
        let passwords = Passwords::new(1).unwrap();
        // Smaller than the kept memory (its first blocks serve), then larger (it grows).
        for (m, t) in [(8 * 1024, 3), (32 * 1024, 1)] {
            let params = Params::new(m, t, 1, None).unwrap();
            let stored = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(KNOWN_PASSWORD.as_bytes())
                .unwrap()
                .to_string();
            let right = passwords.verify(secret(KNOWN_PASSWORD), Some(stored.clone()));
            assert!(right.await.unwrap(), "{stored}");
            let wrong = passwords.verify(secret("not it"), Some(stored.clone()));
            assert!(!wrong.await.unwrap(), "{stored}");
        }
    }

    #[tokio::test]
    async fn an_unknown_email_is_refused_after_a_hash_of_the_same_cost() {
        let passwords = Passwords::new(1).unwrap();
        // The dummy costs what a stored hash costs, so a miss takes as long as a wrong password.
        assert!(
            passwords
                .dummy_hash
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
        let verified = passwords
            .verify(secret(KNOWN_PASSWORD), None)
            .await
            .unwrap();
        assert!(!verified);
    }
}
