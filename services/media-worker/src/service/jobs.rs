//! One media job: read the original, render the variants on the CPU pool, store them, and
//! publish the outcome.
//!
//! What the job decides is whether a failure is a *result* or a *retry*. An image that cannot
//! be processed (corrupt, hostile, too large, missing) is a result: it is published as
//! `failed` and never retried, since the same bytes give the same answer. A store or broker
//! that fails or does not answer is a retry ([`WorkerError`]): nothing is published, and the
//! whole job runs again, rewriting the same objects and republishing the same event.
//!
//! A job that already ran to its outcome is not run again: the outcome is kept in storage
//! (`results/<media_id>.pb`) before it is published, and a job delivered again (a replay of
//! `media.uploaded` after the broker lost its log, or a crash between storing and publishing)
//! publishes the kept outcome. What a replay costs the worker is one storage read per upload.

use std::time::Instant;

use bytes::Bytes;
use futures::future::try_join_all;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use platform_cpu_pool::CpuPool;

use super::images::{DEFAULT_VARIANTS, EncodedVariant, ImageLimits, process};
use crate::data::{
    MediaObjects, MediaRef, Original, Outcome, ProcessedEvents, StoredVariant, encode,
};
use crate::{ProcessError, WorkerError};

/// The failure reason when the original is not in storage.
pub const ORIGINAL_MISSING: &str = "ORIGINAL_MISSING";

/// A media to process, as `media.uploaded` describes it.
#[derive(Debug, Clone)]
pub struct MediaJob {
    /// The `media.uploaded` event's id; the outcome's event id derives from it.
    pub cause: Uuid,
    pub media_id: String,
    pub owner_id: String,
    /// As declared at upload; the content must agree with it.
    pub content_type: String,
    pub object_key: String,
}

impl MediaJob {
    fn media(&self) -> MediaRef<'_> {
        MediaRef {
            media_id: &self.media_id,
            owner_id: &self.owner_id,
            cause: self.cause,
        }
    }
}

/// The variants of one image, rendered and hashed, not yet stored.
struct Rendered {
    width: u32,
    height: u32,
    variants: Vec<(EncodedVariant, String)>,
}

/// Runs media jobs; shared by every consumer of the worker.
#[derive(Debug)]
pub struct Jobs {
    pool: CpuPool,
    limits: ImageLimits,
    objects: MediaObjects,
    events: ProcessedEvents,
}

impl Jobs {
    pub fn new(
        pool: CpuPool,
        limits: ImageLimits,
        objects: MediaObjects,
        events: ProcessedEvents,
    ) -> Self {
        Self {
            pool,
            limits,
            objects,
            events,
        }
    }

    /// Runs `job` to its published outcome. `Ok` only once Kafka acknowledged the event, so
    /// the caller may then commit the offset of the upload.
    #[tracing::instrument(skip_all, fields(media_id = %job.media_id, owner_id = %job.owner_id))]
    pub async fn run(&self, job: &MediaJob) -> Result<(), WorkerError> {
        let started = Instant::now();
        if let Some(kept) = self.objects.result(&job.media_id).await? {
            self.events
                .publish_encoded(job.media(), kept.to_vec())
                .await?;
            metrics::counter!("media_worker_jobs_total", "outcome" => "republished").increment(1);
            tracing::info!("the job ran before: its kept outcome published again");
            return Ok(());
        }
        let outcome = self.outcome(job).await?;
        let payload = encode(job.media(), &outcome);
        self.objects
            .put_result(&job.media_id, Bytes::from(payload.clone()))
            .await?;
        self.events.publish_encoded(job.media(), payload).await?;

        let label = outcome.label();
        metrics::counter!("media_worker_jobs_total", "outcome" => label).increment(1);
        metrics::histogram!("media_worker_job_seconds", "outcome" => label)
            .record(started.elapsed().as_secs_f64());
        match &outcome {
            Outcome::Ready { variants, .. } => {
                tracing::info!(variants = variants.len(), "media ready");
            }
            Outcome::Failed { reason, message } => {
                tracing::info!(reason, message, "media failed");
            }
        }
        Ok(())
    }

    async fn outcome(&self, job: &MediaJob) -> Result<Outcome, WorkerError> {
        let limit = self.limits.max_input_bytes;
        let original = match self.objects.original(&job.object_key, limit).await? {
            Original::Found(bytes) => bytes,
            Original::Missing => {
                return Ok(Outcome::Failed {
                    reason: ORIGINAL_MISSING,
                    message: format!("the original {} is not in object storage", job.object_key),
                });
            }
            Original::TooLarge { size } => {
                return Ok(ProcessError::InputTooLarge { size, limit }.into());
            }
        };
        let rendered = match self.render(original, &job.content_type).await {
            Ok(rendered) => rendered,
            Err(refused) => return Ok(refused.into()),
        };
        let stored = rendered
            .variants
            .into_iter()
            .map(|(variant, etag)| self.store(&job.media_id, variant, etag));
        Ok(Outcome::Ready {
            width: rendered.width,
            height: rendered.height,
            variants: try_join_all(stored).await?,
        })
    }

    /// Stores one rendered variant and describes it as `media.processed` will.
    async fn store(
        &self,
        media_id: &str,
        variant: EncodedVariant,
        etag: String,
    ) -> Result<StoredVariant, WorkerError> {
        let size_bytes = variant.bytes.len() as u64;
        let object_key = self
            .objects
            .put_variant(media_id, variant.name, variant.bytes)
            .await?;
        Ok(StoredVariant {
            name: variant.name,
            width: variant.width,
            height: variant.height,
            content_type: variant.content_type,
            object_key,
            size_bytes,
            etag,
        })
    }

    /// Decodes, resizes, encodes and hashes on the CPU pool, never on the async runtime. The
    /// consumer awaits this before it takes its next message: that is the worker's
    /// backpressure (see `crate::app`).
    async fn render(&self, original: Bytes, declared: &str) -> Result<Rendered, ProcessError> {
        let (limits, declared) = (self.limits.clone(), declared.to_owned());
        self.pool
            .run(move |_| {
                let processed = process(&original, &declared, &limits, DEFAULT_VARIANTS)?;
                drop(original); // no longer needed while the variants are hashed
                let variants = processed
                    .variants
                    .into_iter()
                    .map(|variant| {
                        let etag = format!("{:x}", Sha256::digest(&variant.bytes));
                        (variant, etag)
                    })
                    .collect();
                Ok(Rendered {
                    width: processed.width,
                    height: processed.height,
                    variants,
                })
            })
            .await
            // A bug, not a refused image: it fails the job as if the code had run in place.
            .unwrap_or_else(|panicked| panicked.resume())
    }
}

impl From<ProcessError> for Outcome {
    fn from(refused: ProcessError) -> Self {
        Self::Failed {
            reason: refused.code(),
            message: refused.to_string(),
        }
    }
}
