//! The media service's error, and its one mapping to a gRPC status.
//!
//! Every status carries `google.rpc.ErrorInfo` whose `reason` is a stable machine code (the
//! gateway turns it into the problem's `code`), plus `BadRequest` field violations or
//! `RetryInfo` where they apply.

use std::time::Duration;

use platform_grpc::{Answer, ServiceError};
use platform_postgres::DataError;
use platform_storage::StorageError;
use tonic::{Code, Status};

pub use platform_grpc::FieldViolation;

/// When a refused upload may be tried again. The worker takes seconds per image, so a
/// backlog drains over minutes: retrying sooner than this mostly meets the same refusal.
pub const BACKLOG_RETRY_AFTER: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("invalid input: {0:?}")]
    InvalidInput(Vec<FieldViolation>),
    #[error("the upload is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("no such media")]
    NotFound,
    #[error("the media has no such variant")]
    VariantNotFound,
    /// Too many uploads wait for the worker: refused before any byte is stored.
    #[error("{limit} uploads already wait to be processed")]
    BacklogFull { limit: u32 },
    #[error("the upload stream broke off: {0}")]
    UploadInterrupted(String),
    #[error("{0} did not answer in time")]
    DependencyTimeout(&'static str),
    #[error("{0} is unavailable")]
    DependencyUnavailable(&'static str),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl MediaError {
    /// One invalid field.
    pub fn invalid(field: &'static str, description: impl Into<String>) -> Self {
        Self::InvalidInput(vec![FieldViolation {
            field,
            description: description.into(),
        }])
    }
}

/// A database failure, as `platform_postgres::DataError` classifies (and logs) it.
impl From<sqlx::Error> for MediaError {
    fn from(e: sqlx::Error) -> Self {
        match DataError::from(e) {
            DataError::Unavailable(_) => Self::DependencyUnavailable("the database"),
            DataError::Timeout(_) => Self::DependencyTimeout("the database"),
            other => Self::Unexpected(other.into()),
        }
    }
}

impl From<StorageError> for MediaError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Timeout { .. } => {
                tracing::warn!(error = %e, "object storage timed out");
                Self::DependencyTimeout("object storage")
            }
            StorageError::Failed { .. } => {
                tracing::warn!(error = ?e, "object storage failed");
                Self::DependencyUnavailable("object storage")
            }
            // Only objects a row points at are read, so a missing one is lost data, not a
            // bad request.
            StorageError::NotFound { .. } => {
                Self::Unexpected(anyhow::Error::new(e).context("a recorded object is missing"))
            }
        }
    }
}

impl ServiceError for MediaError {
    const DOMAIN: &'static str = "media";

    fn answer(&self) -> Answer {
        match self {
            Self::InvalidInput(fields) => Answer::invalid_input(fields),
            Self::TooLarge { limit } => Answer::new(
                Code::ResourceExhausted,
                "UPLOAD_TOO_LARGE",
                "the upload is larger than the limit",
            )
            .with_violations(vec![FieldViolation {
                field: "chunk",
                description: format!("the upload must be at most {limit} bytes"),
            }]),
            Self::NotFound => Answer::new(Code::NotFound, "MEDIA_NOT_FOUND", "no such media"),
            Self::VariantNotFound => Answer::new(
                Code::NotFound,
                "VARIANT_NOT_FOUND",
                "the media has no such variant (yet)",
            ),
            Self::BacklogFull { .. } => Answer::new(
                Code::Unavailable,
                "UPLOAD_BACKLOG_FULL",
                "too many uploads are waiting to be processed; retry later",
            )
            .retry_after(BACKLOG_RETRY_AFTER),
            Self::UploadInterrupted(_) => Answer::new(
                Code::Cancelled,
                "UPLOAD_INTERRUPTED",
                "the upload stream ended before it was complete",
            ),
            Self::DependencyTimeout(_) => Answer::DEPENDENCY_TIMEOUT,
            Self::DependencyUnavailable(_) => Answer::DEPENDENCY_UNAVAILABLE,
            Self::Unexpected(_) => Answer::INTERNAL,
        }
    }
}

impl From<MediaError> for Status {
    fn from(error: MediaError) -> Self {
        platform_grpc::into_status(&error)
    }
}
