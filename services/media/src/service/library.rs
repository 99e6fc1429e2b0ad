//! Reading media and their bytes, and recording what the worker made of them.

use std::collections::HashSet;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt as _};
use platform_kafka::idempotency::Token;
use platform_storage::ObjectStorage;

use crate::MediaError;
use crate::data::{Applied, Media, MediaStore, Outcome, Variant};
use crate::error::FieldViolation;
use crate::service::parse_media_id;

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
        validate(&outcome)?;
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

/// What the worker reports must fit the tables: named, distinct variants with a place in
/// storage, positive dimensions that fit an `int`, sizes that fit a `bigint`.
fn validate(outcome: &Outcome) -> Result<(), MediaError> {
    let Outcome::Ready {
        width,
        height,
        variants,
    } = outcome
    else {
        return Ok(());
    };
    let mut violations = Vec::new();
    let mut bad = |field: &'static str, description: &str| {
        violations.push(FieldViolation {
            field,
            description: description.to_owned(),
        });
    };
    let dimension_ok = |d: u32| d > 0 && i32::try_from(d).is_ok();
    if !dimension_ok(*width) || !dimension_ok(*height) {
        bad(
            "ready.width",
            "the dimensions must be positive and fit 31 bits",
        );
    }
    let mut names = HashSet::new();
    for variant in variants {
        if variant.name.is_empty() || !names.insert(variant.name.as_str()) {
            bad("ready.variants.name", "each variant needs a distinct name");
        }
        if variant.object_key.is_empty() {
            bad(
                "ready.variants.object_key",
                "each variant needs an object key",
            );
        }
        if !dimension_ok(variant.width)
            || !dimension_ok(variant.height)
            || i64::try_from(variant.size_bytes).is_err()
        {
            bad("ready.variants", "dimensions or size out of range");
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(MediaError::InvalidInput(violations))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(name: &str, width: u32) -> Variant {
        Variant {
            name: name.to_owned(),
            width,
            height: 10,
            content_type: "image/jpeg".to_owned(),
            size_bytes: 100,
            object_key: format!("variants/m/{name}.jpg"),
            etag: "e".to_owned(),
        }
    }

    fn fields(outcome: &Outcome) -> Vec<&'static str> {
        match validate(outcome) {
            Ok(()) => Vec::new(),
            Err(MediaError::InvalidInput(violations)) => {
                violations.iter().map(|v| v.field).collect()
            }
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_well_formed_ready_outcome_and_any_failure_pass() {
        let ready = Outcome::Ready {
            width: 10,
            height: 10,
            variants: vec![variant("original", 10), variant("thumb", 5)],
        };
        assert!(fields(&ready).is_empty());
        let failed = Outcome::Failed {
            error: "IMAGE_UNREADABLE: no".to_owned(),
        };
        assert!(fields(&failed).is_empty());
    }

    #[test]
    fn unnamed_repeated_or_oversized_variants_are_refused() {
        let ready = Outcome::Ready {
            width: 0,
            height: 10,
            variants: vec![
                variant("thumb", 5),
                variant("thumb", 6),
                variant("", 7),
                variant("huge", u32::MAX),
            ],
        };
        assert_eq!(
            fields(&ready),
            [
                "ready.width",
                "ready.variants.name",
                "ready.variants.name",
                "ready.variants"
            ]
        );
    }
}
