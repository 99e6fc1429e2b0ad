//! Password hashing with argon2id, on a pool of threads that each keep their argon2 memory.
//!
//! One hash costs about 19 MiB and tens of milliseconds of one core by design. Running it
//! on a runtime worker would stall every other request on that worker, so hashes run on
//! `concurrency` threads of their own (a `platform_cpu_pool::CpuPool`), at most `concurrency`
//! at once.
//!
//! Each thread allocates its 19 MiB on its first hash and hashes into it every time after
//! (issue 17). When every hash allocated and freed its own block, glibc raised its mmap
//! threshold after the first free, so later blocks came from per-thread heap arenas it never
//! returns: auth went from 13 MB to 415 MB under a 20 s login flood and stayed there. Now
//! resident memory is bounded by `concurrency` × 19 MiB. Threads of their own, not a
//! thread-local on tokio's blocking pool: that pool grows to 512 threads, and each thread
//! that ever hashed would keep a block.

use std::sync::Arc;

use anyhow::Context as _;
use argon2::password_hash::phc::{Output, PasswordHash, Salt};
use argon2::password_hash::try_generate_salt;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use platform_config::{ExposeSecret as _, SecretString};
use platform_cpu_pool::CpuPool;

use crate::AuthError;

/// OWASP's first recommended argon2id setting: m = 19 MiB, t = 2, p = 1.
/// <https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html>
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

pub struct Passwords {
    /// The hashing threads, each owning its [`Memory`]. No queue: a hash is queued only when
    /// a thread is free to take it, so callers beyond `concurrency` wait, asynchronously, and
    /// may give up.
    pool: CpuPool<Memory>,
    /// Verified against when the email is unknown, so both paths cost one hash.
    dummy_hash: Arc<str>,
}

impl Passwords {
    /// Starts `concurrency` hashing threads (at least one). The dummy hash is made in the
    /// first thread's memory before that thread takes it, so no block is ever freed.
    pub fn new(concurrency: usize) -> anyhow::Result<Self> {
        let mut first = Memory::default();
        let dummy_hash = first
            .hash(b"a password nobody has")
            .context("hashing the dummy password")?;
        let mut first = Some(first);
        let pool = CpuPool::builder("auth-hash")
            .threads(concurrency)
            .build_with(|_| first.take().unwrap_or_default())
            .context("starting the password hashing threads")?;
        Ok(Self {
            pool,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) with a fresh random salt.
    pub async fn hash(&self, password: SecretString) -> Result<String, AuthError> {
        Ok(self
            .run(move |memory| memory.hash(password.expose_secret().as_bytes()))
            .await??)
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
            .run(move |memory| memory.verify(password.expose_secret().as_bytes(), &hash))
            .await?;
        Ok(known && matches)
    }

    /// Runs `work` on a hashing thread, in the caller's tracing span.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        // A panic leaves the thread's memory half written, which is harmless: argon2 writes
        // every block of a hash before reading it, so no hash reads another's contents.
        Ok(self
            .pool
            .run(work)
            .await
            .context("a hashing task panicked")?)
    }
}

fn params() -> Params {
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("the OWASP parameters are valid argon2 parameters")
}

/// Argon2 working memory, kept by one thread and reused by each hash it computes.
#[derive(Default)]
struct Memory(Vec<Block>);

impl Memory {
    /// The blocks a hash with `params` needs, allocated on first use and kept. A stored hash
    /// with a larger `m` grows them for good: RSS stays bounded by the largest `m` in use.
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        let needed = params.block_count();
        if self.0.len() < needed {
            self.0.resize(needed, Block::new());
        }
        &mut self.0[..needed]
    }

    /// The PHC string argon2's own `hash_password` makes, with a fresh 16-byte salt.
    fn hash(&mut self, password: &[u8]) -> anyhow::Result<String> {
        let params = params();
        let salt = Salt::new(&try_generate_salt()?)?;
        let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(password, &salt, &mut output, self.blocks(&params))
            .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: (&params).try_into()?,
            salt: Some(salt),
            hash: Some(Output::new(&output)?),
        };
        Ok(hash.to_string())
    }

    /// Whether `password` hashes to `stored` with the algorithm, version and parameters
    /// written in `stored`, as argon2's own `verify_password` does; unreadable is false.
    fn verify(&mut self, password: &[u8], stored: &str) -> bool {
        self.try_verify(password, stored).unwrap_or(false)
    }

    fn try_verify(&mut self, password: &[u8], stored: &str) -> Option<bool> {
        let stored = PasswordHash::new(stored).ok()?;
        let (salt, expected) = (stored.salt.as_ref()?, stored.hash.as_ref()?);
        let algorithm: Algorithm = stored.algorithm.as_str().parse().ok()?;
        let version = stored.version.map_or(Ok(Version::V0x13), Version::try_from);
        let params = Params::try_from(&stored).ok()?;
        let mut output = [0u8; Output::MAX_LENGTH];
        let output = output.get_mut(..expected.len())?;
        Argon2::new(algorithm, version.ok()?, params.clone())
            .hash_password_into_with_memory(password, salt, output, self.blocks(&params))
            .ok()?;
        // `Output`'s equality is constant-time: the answer's timing tells nothing of the hash.
        Some(Output::new(output).ok()? == *expected)
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
