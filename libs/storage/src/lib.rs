//! Object storage, one way for every service: [`ObjectStorage`] over the `object_store`
//! crate, on the local filesystem by default or on S3 and S3-compatible servers (MinIO, Ceph,
//! R2) by configuration, so every replica of a service sees the same objects.
//!
//! Every call has a deadline (`OBJECT_STORE_TIMEOUT`): a store that accepts the connection
//! and never answers fails the call with [`StorageError::Timeout`] instead of hanging it.
//! Streams (reads and multipart writes) apply the deadline to each step, so a large object
//! may take longer than one deadline as long as it keeps moving.
//!
//! ```no_run
//! use platform_config::Env;
//! use platform_storage::{ObjectStorage, StorageSettings};
//!
//! # async fn run() -> anyhow::Result<()> {
//! let storage = ObjectStorage::connect(&StorageSettings::from_env(&Env::from_process())?)?;
//! storage.put("variants/m1/thumb.jpg", bytes::Bytes::from_static(b"...")).await?;
//! let bytes = storage.get("variants/m1/thumb.jpg").await?;
//! # let _ = bytes; Ok(()) }
//! ```

mod settings;
mod storage;

pub use settings::{Backend, StorageSettings};
pub use storage::{ByteStream, ObjectStorage, StorageError, Upload};
