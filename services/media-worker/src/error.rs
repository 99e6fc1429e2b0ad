//! The worker's two kinds of failure: [`ProcessError`], why an image could not be processed
//! (a result, published as the media's failure), and [`WorkerError`], why a job could not be
//! finished now (retried, then dead-lettered).

use image::ImageError;
use platform_kafka::PublishError;
use platform_storage::StorageError;

/// Why a job stopped before its outcome was published. Nearly every variant is a peer that
/// failed or did not answer in time, so the job is retried as a whole: the variant keys and
/// the event id are deterministic, so a retry rewrites the same objects and republishes the
/// same event.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The outcome kept in storage by an earlier run no longer decodes (the object was
    /// damaged): retried like the others, and dead-lettered after `KAFKA_RETRY_BUDGET`, where
    /// an operator sees it, rather than published as garbage.
    #[error("the kept outcome does not decode: {0}")]
    KeptOutcome(#[from] prost::DecodeError),
}

/// Why [`process`](crate::service::images::process) refused or failed an image.
///
/// Every variant depends only on the bytes and the limits, so retrying the same upload gives
/// the same answer: the consumer records the failure on the media (with [`code`](Self::code)
/// as the reason) instead of retrying or dead-lettering the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    #[error("the upload is {size} bytes, over the limit of {limit} bytes")]
    InputTooLarge { size: u64, limit: u64 },

    #[error(
        "{} is not an accepted image format (JPEG, PNG, WebP or GIF)",
        .detected.unwrap_or("the content")
    )]
    UnsupportedFormat {
        /// The format the magic bytes name, when they name one at all.
        detected: Option<&'static str>,
    },

    #[error("the upload was declared as {declared:?} but its content is {detected}")]
    TypeMismatch {
        declared: String,
        detected: &'static str,
    },

    #[error("the image is {width}×{height} pixels, over the limit of {max_width}×{max_height}")]
    TooLarge {
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
    },

    #[error("the image is {width}×{height} = {pixels} pixels, over the limit of {limit} pixels", pixels = u64::from(*.width) * u64::from(*.height))]
    TooManyPixels { width: u32, height: u32, limit: u64 },

    #[error("decoding the image would need more memory than allowed: {0}")]
    DecodeLimit(String),

    #[error("the image data is corrupt or truncated: {0}")]
    Corrupt(String),

    #[error("variant {variant} could not be produced: {reason}")]
    Encode {
        variant: &'static str,
        reason: String,
    },
}

impl ProcessError {
    /// A stable machine-readable reason, recorded as the media's failure reason.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InputTooLarge { .. } => "INPUT_TOO_LARGE",
            Self::UnsupportedFormat { .. } => "UNSUPPORTED_FORMAT",
            Self::TypeMismatch { .. } => "CONTENT_TYPE_MISMATCH",
            Self::TooLarge { .. } => "IMAGE_TOO_LARGE",
            Self::TooManyPixels { .. } => "IMAGE_TOO_MANY_PIXELS",
            Self::DecodeLimit(_) => "IMAGE_DECODE_LIMIT",
            Self::Corrupt(_) => "IMAGE_CORRUPT",
            Self::Encode { .. } => "IMAGE_ENCODE_FAILED",
        }
    }
}

/// Decoder errors: a limit the decoder enforced itself, or bytes it could not make sense of.
impl From<ImageError> for ProcessError {
    fn from(error: ImageError) -> Self {
        match error {
            ImageError::Limits(e) => Self::DecodeLimit(e.to_string()),
            // zune-jpeg ends some messages with a newline.
            other => Self::Corrupt(other.to_string().trim_end().to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_was_wrong() {
        let err = ProcessError::TooManyPixels {
            width: 8000,
            height: 6000,
            limit: 40_000_000,
        };
        assert_eq!(
            err.to_string(),
            "the image is 8000×6000 = 48000000 pixels, over the limit of 40000000 pixels"
        );
        let err = ProcessError::UnsupportedFormat {
            detected: Some("image/bmp"),
        };
        assert!(err.to_string().starts_with("image/bmp is not"), "{err}");
    }
}
