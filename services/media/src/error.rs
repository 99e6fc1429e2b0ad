//! The media service's error, and its one mapping to a gRPC status.
//!
//! Every status carries `google.rpc.ErrorInfo` whose `reason` is a stable machine code (the
//! gateway turns it into the problem's `code`), plus `BadRequest` field violations or
//! `RetryInfo` where they apply.

use std::time::Duration;

use platform_storage::StorageError;
use tonic::{Code, Status};

pub use platform_grpc::FieldViolation;

/// The `ErrorInfo.domain` of every error this service returns.
const DOMAIN: &str = "media";

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

impl From<sqlx::Error> for MediaError {
    fn from(e: sqlx::Error) -> Self {
        use platform_postgres::Failure;
        match platform_postgres::classify(&e) {
            Failure::Unavailable => {
                tracing::warn!(error = %e, "database unavailable");
                Self::DependencyUnavailable("the database")
            }
            Failure::Timeout => {
                tracing::warn!(error = %e, "database statement timed out");
                Self::DependencyTimeout("the database")
            }
            Failure::Other => Self::Unexpected(anyhow::Error::new(e).context("database error")),
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

impl From<MediaError> for Status {
    fn from(error: MediaError) -> Self {
        let (code, reason, message) = match &error {
            MediaError::InvalidInput(_) => (
                Code::InvalidArgument,
                "INVALID_INPUT",
                "the request has invalid fields",
            ),
            MediaError::TooLarge { .. } => (
                Code::ResourceExhausted,
                "UPLOAD_TOO_LARGE",
                "the upload is larger than the limit",
            ),
            MediaError::NotFound => (Code::NotFound, "MEDIA_NOT_FOUND", "no such media"),
            MediaError::VariantNotFound => (
                Code::NotFound,
                "VARIANT_NOT_FOUND",
                "the media has no such variant (yet)",
            ),
            MediaError::BacklogFull { .. } => (
                Code::Unavailable,
                "UPLOAD_BACKLOG_FULL",
                "too many uploads are waiting to be processed; retry later",
            ),
            MediaError::UploadInterrupted(_) => (
                Code::Cancelled,
                "UPLOAD_INTERRUPTED",
                "the upload stream ended before it was complete",
            ),
            MediaError::DependencyTimeout(_) => (
                Code::DeadlineExceeded,
                "DEPENDENCY_TIMEOUT",
                "a dependency did not answer in time",
            ),
            MediaError::DependencyUnavailable(_) => (
                Code::Unavailable,
                "DEPENDENCY_UNAVAILABLE",
                "a dependency is unavailable",
            ),
            MediaError::Unexpected(cause) => {
                // The only place an unexpected error is logged; the caller learns nothing internal.
                tracing::error!(error = ?cause, "unexpected error");
                (Code::Internal, "INTERNAL", "internal error")
            }
        };
        let retry_after = match error {
            MediaError::DependencyUnavailable(_) => Some(Duration::from_secs(1)),
            MediaError::BacklogFull { .. } => Some(BACKLOG_RETRY_AFTER),
            _ => None,
        };
        let violations = match error {
            MediaError::InvalidInput(violations) => violations,
            MediaError::TooLarge { limit } => vec![FieldViolation {
                field: "chunk",
                description: format!("the upload must be at most {limit} bytes"),
            }],
            _ => Vec::new(),
        };
        platform_grpc::error_status(DOMAIN, code, reason, message, &violations, retry_after)
    }
}
