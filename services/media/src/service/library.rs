//! Reading media and their bytes, and recording what the worker made of them.

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt as _};
use platform_kafka::idempotency::Token;
use platform_storage::ObjectStorage;

use crate::MediaError;
use crate::data::MediaStore;
use crate::service::validation::{self, parse_media_id};
use crate::service::{Applied, Media, Outcome, Variant};

/// A variant's bytes, chunk by chunk as storage yields them.
pub type ContentStream = BoxStream<'static, Result<Bytes, MediaError>>;

pub struct MediaLibrary {
    store: MediaStore,
    storage: ObjectStorage,
}

impl MediaLibrary {
    pub fn new(store: MediaStore, storage: ObjectStorage) -> Self {
        Self { store, storage }
    }

    /// The media with its variants. A malformed id is not found like an unknown one, so ids
    /// cannot be probed.
    #[tracing::instrument(skip_all, fields(media_id = id))]
    pub async fn get(&self, id: &str) -> Result<Media, MediaError> {
        let id = parse_media_id(id).ok_or(MediaError::NotFound)?;
        self.store.find(id).await?.ok_or(MediaError::NotFound)
    }

    /// A variant's description and a stream of its bytes (`original` is a variant too).
    #[tracing::instrument(skip_all, fields(media_id = id, variant = name))]
    pub async fn content(
        &self,
        id: &str,
        name: &str,
    ) -> Result<(Variant, ContentStream), MediaError> {
        let id = parse_media_id(id).ok_or(MediaError::NotFound)?;
        let variant = self.store.find_variant(id, name).await?;
        let (_size, bytes) = self.storage.get_stream(&variant.object_key).await?;
        let bytes = bytes.map(|chunk| chunk.map_err(MediaError::from)).boxed();
        Ok((variant, bytes))
    }

    /// Records the worker's verdict on a pending media, once per event (`once` names it in
    /// the idempotency record). A media that already has a verdict keeps it; an unknown media
    /// is [`MediaError::NotFound`].
    #[tracing::instrument(skip_all, fields(media_id, event_id = %once.event_id()))]
    pub async fn record_outcome(
        &self,
        once: Token,
        media_id: &str,
        outcome: Outcome,
    ) -> Result<(), MediaError> {
        let id = parse_media_id(media_id).ok_or(MediaError::NotFound)?;
        tracing::Span::current().record("media_id", media_id);
        validation::outcome(&outcome)?;
        let label = match &outcome {
            Outcome::Ready { .. } => "ready",
            Outcome::Failed { .. } => "failed",
        };
        let result = match self.store.apply(once, id, &outcome).await? {
            Applied::Applied => {
                tracing::info!(outcome = label, "processing outcome recorded");
                label
            }
            Applied::Duplicate => {
                tracing::info!("event already applied; nothing to do");
                "duplicate"
            }
            Applied::AlreadyFinal(status) => {
                tracing::warn!(
                    status = status.as_str(),
                    "the media already has a verdict; event ignored"
                );
                "ignored"
            }
            Applied::UnknownMedia => return Err(MediaError::NotFound),
        };
        metrics::counter!("media_processed_events_total", "result" => result).increment(1);
        Ok(())
    }
}
