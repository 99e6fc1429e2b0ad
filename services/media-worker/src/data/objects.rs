//! Originals and variants in the shared object store.

use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;
use platform_storage::{ObjectStorage, StorageError};

/// Where a media's variant is stored: `variants/<media_id>/<name>.jpg`. Deterministic, so a
/// job redone after a crash overwrites its own objects instead of adding new ones.
pub fn variant_key(media_id: &str, name: &str) -> String {
    format!("variants/{media_id}/{name}.jpg")
}

/// An original, as found in storage.
#[derive(Debug)]
pub enum Original {
    Found(Bytes),
    /// Nothing at the key: the upload was deleted, or never finished.
    Missing,
    /// Larger than the worker accepts; none of it was read.
    TooLarge {
        size: u64,
    },
}

/// A variant as stored, with what consumers need to serve and cache it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVariant {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
    pub content_type: &'static str,
    pub object_key: String,
    pub size_bytes: u64,
    /// Hex SHA-256 of the bytes.
    pub etag: String,
}

/// Where the worker keeps a job's published outcome (the encoded `media.processed` payload):
/// `results/<media_id>.pb`. Written before the outcome is published, so a job delivered again
/// (a replay after the broker lost its log, a crash between storing and publishing) publishes
/// it again instead of processing the image again.
pub fn result_key(media_id: &str) -> String {
    format!("results/{media_id}.pb")
}

/// The media objects in the store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MediaObjects {
    storage: ObjectStorage,
}

impl MediaObjects {
    pub fn new(storage: ObjectStorage) -> Self {
        Self { storage }
    }

    /// Reads the original at `key` unless it is over `limit` bytes. The size is known before
    /// the first byte is read, so an oversized object costs nothing; each chunk is read under
    /// the storage deadline.
    #[tracing::instrument(skip(self))]
    pub async fn original(&self, key: &str, limit: u64) -> Result<Original, StorageError> {
        let (size, mut chunks) = match self.storage.get_stream(key).await {
            Ok(found) => found,
            Err(StorageError::NotFound { .. }) => return Ok(Original::Missing),
            Err(e) => return Err(e),
        };
        if size > limit {
            return Ok(Original::TooLarge { size });
        }
        // `size` is at most `limit`, so this allocation is bounded too.
        let mut bytes = BytesMut::with_capacity(usize::try_from(size).unwrap_or_default());
        while let Some(chunk) = chunks.next().await {
            bytes.extend_from_slice(&chunk?);
            // The store said how large the object was; one that grows while read is still
            // held to the limit.
            if bytes.len() as u64 > limit {
                return Ok(Original::TooLarge {
                    size: bytes.len() as u64,
                });
            }
        }
        Ok(Original::Found(bytes.freeze()))
    }

    /// The outcome a previous run of `media_id`'s job stored, if any.
    pub async fn result(&self, media_id: &str) -> Result<Option<Bytes>, StorageError> {
        match self.storage.get(&result_key(media_id)).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(StorageError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Keeps `media_id`'s outcome at its [`result_key`].
    pub async fn put_result(&self, media_id: &str, payload: Bytes) -> Result<(), StorageError> {
        self.storage.put(&result_key(media_id), payload).await
    }

    /// Stores the bytes of `media_id`'s variant `name` at its [`variant_key`], replacing what
    /// a previous attempt stored there, and returns the key.
    pub async fn put_variant(
        &self,
        media_id: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<String, StorageError> {
        let object_key = variant_key(media_id, name);
        self.storage.put(&object_key, Bytes::from(bytes)).await?;
        Ok(object_key)
    }
}
