//! [`ObjectStorage`]: the calls services make, each under the deadline.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt as _, TryStreamExt as _};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt as _, PutPayload, RetryConfig,
    WriteMultipart,
};
use platform_config::ExposeSecret as _;

use crate::{Backend, StorageSettings};

/// Parts of a multipart write in flight at once; with S3's 5 MiB parts, an upload holds at
/// most about 15 MiB in memory whatever its size.
const UPLOAD_CONCURRENCY: usize = 2;

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("no object at {key}")]
    NotFound { key: String },
    #[error("object storage did not finish {operation} {key} within {after:?}")]
    Timeout {
        operation: &'static str,
        key: String,
        after: Duration,
    },
    #[error("object storage failed to {operation} {key}")]
    Failed {
        operation: &'static str,
        key: String,
        #[source]
        source: object_store::Error,
    },
}

/// A stream of an object's bytes, each chunk under the deadline.
pub type ByteStream = BoxStream<'static, Result<Bytes, StorageError>>;

/// A store of objects by key (`originals/<id>`), shared by every replica. Cheap to clone.
#[derive(Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    timeout: Duration,
}

impl std::fmt::Debug for ObjectStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStorage")
            .field("store", &self.store.to_string())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl ObjectStorage {
    /// Opens the store `settings` names; a local directory is created if missing. Nothing is
    /// contacted yet: an unreachable S3 endpoint shows up as failed calls.
    pub fn connect(settings: &StorageSettings) -> anyhow::Result<Self> {
        let store: Arc<dyn ObjectStore> = match &settings.backend {
            Backend::Local { root } => {
                std::fs::create_dir_all(root)
                    .with_context(|| format!("creating the object store at {}", root.display()))?;
                Arc::new(
                    LocalFileSystem::new_with_prefix(root)
                        .with_context(|| format!("opening the object store at {}", root.display()))?
                        .with_automatic_cleanup(true),
                )
            }
            Backend::S3 {
                bucket,
                prefix,
                endpoint,
                region,
                access_key_id,
                secret_access_key,
            } => {
                // Our own deadline (`bounded`) is the one that answers the caller; the HTTP
                // client's, twice as long, only frees a request that outlived it. Retries of
                // a failed request happen inside our deadline.
                let client = ClientOptions::new()
                    .with_timeout(settings.timeout * 2)
                    .with_connect_timeout(settings.connect_timeout);
                let retry = RetryConfig {
                    backoff: BackoffConfig::default(),
                    max_retries: 2,
                    retry_timeout: settings.timeout,
                };
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_client_options(client)
                    .with_retry(retry);
                if let Some(endpoint) = endpoint {
                    // S3-compatible servers are addressed path-style, often over plain HTTP
                    // inside the cluster.
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                if let (Some(id), Some(secret)) = (access_key_id, secret_access_key) {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret.expose_secret());
                }
                let s3 = builder.build().context("configuring the S3 object store")?;
                if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(s3, prefix.as_str()))
                }
            }
        };
        Ok(Self {
            store,
            timeout: settings.timeout,
        })
    }

    /// Stores `bytes` at `key`, replacing what was there (so a job redone writes the same
    /// object once, not twice).
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        let path = Path::from(key);
        self.bounded("put", key, self.store.put(&path, PutPayload::from(bytes)))
            .await
            .map(|_| ())
    }

    /// The whole object at `key`. For objects whose size is bounded; stream the others.
    pub async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        let path = Path::from(key);
        self.bounded("get", key, async {
            self.store.get(&path).await?.bytes().await
        })
        .await
    }

    /// The object at `key` as its size and a stream of chunks, each under the deadline.
    pub async fn get_stream(&self, key: &str) -> Result<(u64, ByteStream), StorageError> {
        let path = Path::from(key);
        let found = self.bounded("get", key, self.store.get(&path)).await?;
        let size = found.meta.size;
        let (timeout, key) = (self.timeout, key.to_owned());
        let stream = found.into_stream();
        let chunks = futures::stream::unfold(Some(stream), move |state| {
            let key = key.clone();
            async move {
                let mut stream = state?;
                match tokio::time::timeout(timeout, stream.next()).await {
                    Ok(None) => None,
                    Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(stream))),
                    Ok(Some(Err(source))) => Some((Err(failed("read", &key, source)), None)),
                    Err(_) => Some((
                        Err(StorageError::Timeout {
                            operation: "read",
                            key,
                            after: timeout,
                        }),
                        None,
                    )),
                }
            }
        });
        Ok((size, chunks.boxed()))
    }

    /// Starts writing `key` in parts, for content that arrives as a stream; nothing is
    /// visible at `key` until [`Upload::finish`].
    pub async fn upload(&self, key: &str) -> Result<Upload, StorageError> {
        let path = Path::from(key);
        let writer = self
            .bounded("start an upload of", key, self.store.put_multipart(&path))
            .await?;
        Ok(Upload {
            writer: WriteMultipart::new(writer),
            key: key.to_owned(),
            timeout: self.timeout,
        })
    }

    /// Deletes `key`; deleting what is not there succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = Path::from(key);
        match self.bounded("delete", key, self.store.delete(&path)).await {
            Ok(()) | Err(StorageError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The keys under `prefix` (a folder such as `variants/<id>`), sorted.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let path = Path::from(prefix);
        let listing = self
            .store
            .list(Some(&path))
            .map_ok(|meta| meta.location.to_string())
            .try_collect::<Vec<_>>();
        let mut keys = self.bounded("list", prefix, listing).await?;
        keys.sort();
        Ok(keys)
    }

    /// Readiness: can the store be asked about a key within the deadline?
    pub async fn check(&self) -> Result<(), String> {
        let path = Path::from("readiness-probe");
        match self
            .bounded("look up", "readiness-probe", self.store.head(&path))
            .await
        {
            Ok(_) | Err(StorageError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn bounded<T>(
        &self,
        operation: &'static str,
        key: &str,
        call: impl Future<Output = object_store::Result<T>>,
    ) -> Result<T, StorageError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(source)) => Err(failed(operation, key, source)),
            Err(_) => Err(StorageError::Timeout {
                operation,
                key: key.to_owned(),
                after: self.timeout,
            }),
        }
    }
}

/// An object being written in parts ([`ObjectStorage::upload`]). Dropping it without
/// [`finish`](Self::finish) leaves nothing at the key; call [`abort`](Self::abort) to also
/// release the parts already sent.
#[derive(Debug)]
pub struct Upload {
    writer: WriteMultipart,
    key: String,
    timeout: Duration,
}

impl Upload {
    /// Appends `chunk`, waiting (under the deadline) while too many parts are in flight.
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        let waited = tokio::time::timeout(
            self.timeout,
            self.writer.wait_for_capacity(UPLOAD_CONCURRENCY),
        )
        .await;
        self.settle("write", waited)?;
        self.writer.put(chunk);
        Ok(())
    }

    /// Sends what is left and makes the object visible at its key.
    pub async fn finish(self) -> Result<(), StorageError> {
        let Self {
            writer,
            key,
            timeout,
        } = self;
        match tokio::time::timeout(timeout, writer.finish()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(source)) => Err(failed("finish", &key, source)),
            Err(_) => Err(StorageError::Timeout {
                operation: "finish",
                key,
                after: timeout,
            }),
        }
    }

    /// Gives up the upload and releases its parts (best effort, under the deadline).
    pub async fn abort(self) {
        let key = self.key.clone();
        match tokio::time::timeout(self.timeout, self.writer.abort()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(key, error = %e, "aborting an upload failed"),
            Err(_) => tracing::warn!(key, "aborting an upload timed out"),
        }
    }

    fn settle(
        &self,
        operation: &'static str,
        waited: Result<object_store::Result<()>, tokio::time::error::Elapsed>,
    ) -> Result<(), StorageError> {
        match waited {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(failed(operation, &self.key, source)),
            Err(_) => Err(StorageError::Timeout {
                operation,
                key: self.key.clone(),
                after: self.timeout,
            }),
        }
    }
}

fn failed(operation: &'static str, key: &str, source: object_store::Error) -> StorageError {
    match source {
        object_store::Error::NotFound { .. } => StorageError::NotFound {
            key: key.to_owned(),
        },
        source => StorageError::Failed {
            operation,
            key: key.to_owned(),
            source,
        },
    }
}
