//! Taking an upload in: refuse it while too many uploads wait for the worker, check that the
//! bytes are the declared image type, stream them into object storage under the size limit,
//! then record the media and announce it.
//!
//! The bytes are never held whole: only the chunks that hold the first
//! [`SNIFF_LEN`](platform_mime::SNIFF_LEN) bytes are kept until the type is known, and every
//! chunk after that goes straight to storage.

use std::pin::pin;

use bytes::Bytes;
use futures::{Stream, StreamExt as _};
use platform_storage::ObjectStorage;
use uuid::Uuid;

use crate::MediaError;
use crate::data::{MediaStore, original_key};
use crate::service::{Media, NewMedia};

/// An upload's metadata, as the controller validated it.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub owner_id: String,
    /// One of [`platform_mime::ACCEPTED_IMAGE_TYPES`], as declared.
    pub content_type: String,
}

pub struct Uploads {
    store: MediaStore,
    storage: ObjectStorage,
    max_bytes: u64,
    /// The backlog bound: uploads refused while this many media are pending.
    max_pending: u32,
}

impl Uploads {
    pub fn new(
        store: MediaStore,
        storage: ObjectStorage,
        max_bytes: u64,
        max_pending: u32,
    ) -> Self {
        Self {
            store,
            storage,
            max_bytes,
            max_pending,
        }
    }

    /// Stores the original from `chunks`, records the media as pending and enqueues
    /// `media.uploaded`. Nothing is kept when any step fails.
    #[tracing::instrument(skip_all, fields(owner_id = %upload.owner_id, media_id))]
    pub async fn upload(
        &self,
        upload: NewUpload,
        chunks: impl Stream<Item = Result<Bytes, MediaError>> + Send,
    ) -> Result<Media, MediaError> {
        let result = self.store_and_record(upload, chunks).await;
        let outcome = match &result {
            Ok(media) => {
                metrics::counter!("media_upload_bytes_total").increment(media.size_bytes);
                tracing::info!(size_bytes = media.size_bytes, "upload stored");
                "stored"
            }
            Err(MediaError::InvalidInput(_)) => "invalid",
            Err(MediaError::TooLarge { .. }) => "too_large",
            Err(MediaError::UploadInterrupted(_)) => "interrupted",
            Err(MediaError::BacklogFull { .. }) => "backlog_full",
            Err(_) => "failed",
        };
        metrics::counter!("media_uploads_total", "outcome" => outcome).increment(1);
        result
    }

    async fn store_and_record(
        &self,
        upload: NewUpload,
        chunks: impl Stream<Item = Result<Bytes, MediaError>> + Send,
    ) -> Result<Media, MediaError> {
        self.check_backlog().await?;
        let mut chunks = pin!(chunks);
        let head = read_head(&mut chunks).await?;
        let content_type = check_content(&upload.content_type, &head)?;
        let id = Uuid::now_v7();
        tracing::Span::current().record("media_id", tracing::field::display(id));
        let object_key = original_key(id);
        let size_bytes = self.write_original(&object_key, head, chunks).await?;
        let new = NewMedia {
            id,
            owner_id: upload.owner_id,
            content_type: content_type.to_owned(),
            size_bytes,
            object_key,
        };
        match self.store.create(&new).await {
            Ok(media) => Ok(media),
            Err(error) => {
                // Without its row the original is unreachable: do not leave it behind.
                if let Err(e) = self.storage.delete(&new.object_key).await {
                    tracing::warn!(error = %e, key = new.object_key, "deleting an unrecorded original failed");
                }
                Err(error)
            }
        }
    }

    /// Refuses the upload while `max_pending` media wait for the worker, before
    /// any of its bytes is read: uploads arrive far faster than images are processed, and
    /// without a bound the originals waiting in storage (and the worker's lag) grow without
    /// end. Concurrent uploads are checked apart, so the backlog may pass the bound by the
    /// uploads in flight at the moment it is reached.
    async fn check_backlog(&self) -> Result<(), MediaError> {
        let pending = self.store.count_pending(self.max_pending).await?;
        if pending >= self.max_pending {
            tracing::info!(pending, "upload refused: the backlog is full");
            return Err(MediaError::BacklogFull {
                limit: self.max_pending,
            });
        }
        Ok(())
    }

    /// Writes `head` then the rest of `chunks` to `key`; returns the size. Past the limit,
    /// or on any failure, the upload is aborted and nothing is visible at `key`.
    async fn write_original(
        &self,
        key: &str,
        head: Vec<Bytes>,
        rest: impl Stream<Item = Result<Bytes, MediaError>> + Unpin,
    ) -> Result<u64, MediaError> {
        let mut upload = self.storage.upload(key).await?;
        let mut chunks = futures::stream::iter(head.into_iter().map(Ok)).chain(rest);
        let mut size = 0u64;
        while let Some(chunk) = chunks.next().await {
            let written = match chunk {
                Ok(chunk) => {
                    size = size.saturating_add(chunk.len() as u64);
                    if size > self.max_bytes {
                        Err(MediaError::TooLarge {
                            limit: self.max_bytes,
                        })
                    } else {
                        upload.write(chunk).await.map_err(MediaError::from)
                    }
                }
                Err(e) => Err(e),
            };
            if let Err(e) = written {
                upload.abort().await;
                return Err(e);
            }
        }
        upload.finish().await?;
        Ok(size)
    }
}

/// Reads chunks until they hold [`SNIFF_LEN`](platform_mime::SNIFF_LEN) bytes or the upload
/// ends; returns them (empty chunks skipped), to be written first.
async fn read_head(
    chunks: &mut (impl Stream<Item = Result<Bytes, MediaError>> + Unpin),
) -> Result<Vec<Bytes>, MediaError> {
    let mut head = Vec::new();
    let mut len = 0;
    while len < platform_mime::SNIFF_LEN {
        let Some(chunk) = chunks.next().await.transpose()? else {
            break;
        };
        if !chunk.is_empty() {
            len += chunk.len();
            head.push(chunk);
        }
    }
    Ok(head)
}

/// The content type `head` proves, if it is the declared one.
fn check_content(declared: &str, head: &[Bytes]) -> Result<&'static str, MediaError> {
    let leading: Vec<u8> = head
        .iter()
        .flat_map(|chunk| chunk.iter().copied())
        .take(platform_mime::SNIFF_LEN)
        .collect();
    if leading.is_empty() {
        return Err(MediaError::invalid("chunk", "the upload is empty"));
    }
    platform_mime::check_declared(declared, &leading)
        .map_err(|reason| MediaError::invalid("chunk", reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, MediaError>> + Unpin {
        futures::stream::iter(
            parts
                .iter()
                .map(|part| Ok(Bytes::from_static(part)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn the_head_spans_short_chunks_and_stops_once_it_can_decide() {
        let mut stream = chunks(&[b"\x89PN", b"", b"G\r\n\x1a\n", b"\0\0\0\rIHDR", b"rest"]);
        let head = read_head(&mut stream).await.unwrap();
        assert_eq!(
            head.len(),
            3,
            "the empty chunk is skipped, the last left unread"
        );
        assert_eq!(check_content("image/png", &head).unwrap(), "image/png");
        assert_eq!(stream.next().await.unwrap().unwrap(), "rest");
    }

    #[tokio::test]
    async fn an_empty_or_mislabelled_head_is_invalid() {
        let empty = read_head(&mut chunks(&[b"", b""])).await.unwrap();
        assert!(matches!(
            check_content("image/png", &empty),
            Err(MediaError::InvalidInput(v)) if v[0].description == "the upload is empty"
        ));
        let gif = read_head(&mut chunks(&[b"GIF89a\x01\0\x01\0\0\0"]))
            .await
            .unwrap();
        assert!(matches!(
            check_content("image/png", &gif),
            Err(MediaError::InvalidInput(v)) if v[0].description.contains("image/gif")
        ));
    }
}
