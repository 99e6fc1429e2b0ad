//! The native run's token signing key, kept in `data/auth-signing-key.pem` so access tokens
//! survive a restart of the run (or of the auth process), as they do in production where the
//! key is a mounted secret. Used unless `AUTH_SIGNING_KEY` or `AUTH_SIGNING_KEY_FILE` is set.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use platform_config::Env;

/// Where the key is kept, relative to the working directory (next to `data/objects`).
const KEY_FILE: &str = "data/auth-signing-key.pem";

/// `AUTH_SIGNING_KEY_FILE` for the native run, creating the key on first use; `None` when the
/// developer configured a key of their own.
pub fn default_file(env: &Env) -> anyhow::Result<Option<String>> {
    if env.raw("AUTH_SIGNING_KEY").is_some() || env.raw("AUTH_SIGNING_KEY_FILE").is_some() {
        return Ok(None);
    }
    let path = PathBuf::from(KEY_FILE);
    if !path.exists() {
        write_new_key(&path)?;
    }
    Ok(Some(path.to_string_lossy().into_owned()))
}

fn write_new_key(path: &Path) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;

    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let pem = auth_service::service::SigningKeys::generate_pem()?;
    // Readable by its owner only, as a private key should be.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(pem.as_bytes()))
        .with_context(|| format!("writing the signing key {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated the native run's token signing key");
    Ok(())
}
