//! Object storage settings. Variables read:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `OBJECT_STORE_URL` | `./data/objects` | a directory (`/path` or `file:///path`), or `s3://bucket[/prefix]` |
//! | `OBJECT_STORE_TIMEOUT` | `10s` | deadline of one call (one step of a stream) |
//! | `OBJECT_STORE_CONNECT_TIMEOUT` | `2s` | connecting to the S3 endpoint |
//! | `OBJECT_STORE_S3_ENDPOINT` | AWS | an S3-compatible server, e.g. `http://minio:9000` (path-style requests) |
//! | `OBJECT_STORE_S3_REGION` | `us-east-1` | the bucket's region |
//! | `OBJECT_STORE_S3_ACCESS_KEY_ID` | none | credentials; without them the instance's own (IAM role) are used |
//! | `OBJECT_STORE_S3_SECRET_ACCESS_KEY` | none | the secret half of those credentials (secret) |

use std::path::PathBuf;
use std::time::Duration;

use platform_config::{ConfigError, Env, SecretString};

/// Where objects live and how long a call may take.
#[derive(Debug, Clone)]
pub struct StorageSettings {
    pub backend: Backend,
    pub timeout: Duration,
    pub connect_timeout: Duration,
}

/// The kind of store `OBJECT_STORE_URL` names.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A directory on this machine (or a volume every replica mounts).
    Local { root: PathBuf },
    /// An S3 bucket, or a bucket on an S3-compatible server.
    S3 {
        bucket: String,
        /// Prepended to every key, so several platforms can share a bucket.
        prefix: String,
        endpoint: Option<String>,
        region: String,
        access_key_id: Option<String>,
        secret_access_key: Option<SecretString>,
    },
}

impl StorageSettings {
    /// Reads the `OBJECT_STORE_*` variables listed in this module's documentation.
    ///
    /// ```
    /// use platform_config::Env;
    /// use platform_storage::{Backend, StorageSettings};
    ///
    /// let env = Env::from_pairs([("OBJECT_STORE_URL", "s3://media/platform")]);
    /// let settings = StorageSettings::from_env(&env)?;
    /// assert!(matches!(settings.backend, Backend::S3 { ref bucket, .. } if bucket == "media"));
    /// # Ok::<(), platform_config::ConfigError>(())
    /// ```
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let url = env.or("OBJECT_STORE_URL", "./data/objects".to_owned())?;
        let backend = if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(ConfigError::invalid(
                    "OBJECT_STORE_URL",
                    "s3:// needs a bucket, like s3://media",
                ));
            }
            Backend::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
                endpoint: env.optional("OBJECT_STORE_S3_ENDPOINT")?,
                region: env.or("OBJECT_STORE_S3_REGION", "us-east-1".to_owned())?,
                access_key_id: env.optional("OBJECT_STORE_S3_ACCESS_KEY_ID")?,
                secret_access_key: env.secret_opt("OBJECT_STORE_S3_SECRET_ACCESS_KEY"),
            }
        } else if url.contains("://") && !url.starts_with("file://") {
            return Err(ConfigError::invalid(
                "OBJECT_STORE_URL",
                "must be a directory, file:///path or s3://bucket",
            ));
        } else {
            let path = url.strip_prefix("file://").unwrap_or(&url);
            if path.is_empty() {
                return Err(ConfigError::invalid(
                    "OBJECT_STORE_URL",
                    "names no directory",
                ));
            }
            Backend::Local {
                root: PathBuf::from(path),
            }
        };
        let settings = Self {
            backend,
            timeout: env.duration_or("OBJECT_STORE_TIMEOUT", Duration::from_secs(10))?,
            connect_timeout: env
                .duration_or("OBJECT_STORE_CONNECT_TIMEOUT", Duration::from_secs(2))?,
        };
        for (name, value) in [
            ("OBJECT_STORE_TIMEOUT", settings.timeout),
            ("OBJECT_STORE_CONNECT_TIMEOUT", settings.connect_timeout),
        ] {
            if value.is_zero() {
                return Err(ConfigError::invalid(name, "must be above zero"));
            }
        }
        Ok(settings)
    }

    /// A local store in `root` with a short deadline, for tests.
    pub fn local(root: impl Into<PathBuf>) -> Self {
        Self {
            backend: Backend::Local { root: root.into() },
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_path_or_file_url_is_a_local_directory() {
        for url in ["/var/lib/media", "file:///var/lib/media"] {
            let env = Env::from_pairs([("OBJECT_STORE_URL", url)]);
            let settings = StorageSettings::from_env(&env).unwrap();
            assert!(
                matches!(settings.backend, Backend::Local { ref root } if root == std::path::Path::new("/var/lib/media")),
                "{url}"
            );
        }
    }

    #[test]
    fn an_s3_url_keeps_its_prefix() {
        let env = Env::from_pairs([
            ("OBJECT_STORE_URL", "s3://bucket/some/prefix/"),
            ("OBJECT_STORE_S3_ENDPOINT", "http://minio:9000"),
        ]);
        let settings = StorageSettings::from_env(&env).unwrap();
        let Backend::S3 {
            bucket,
            prefix,
            endpoint,
            ..
        } = settings.backend
        else {
            panic!("an s3 backend");
        };
        assert_eq!(
            (bucket.as_str(), prefix.as_str()),
            ("bucket", "some/prefix")
        );
        assert_eq!(endpoint.as_deref(), Some("http://minio:9000"));
    }

    #[test]
    fn bad_urls_and_zero_deadlines_name_the_variable() {
        for (name, value) in [
            ("OBJECT_STORE_URL", "gs://bucket"),
            ("OBJECT_STORE_URL", "s3://"),
            ("OBJECT_STORE_TIMEOUT", "0s"),
        ] {
            let err = StorageSettings::from_env(&Env::from_pairs([(name, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(name), "{err}");
        }
    }
}
