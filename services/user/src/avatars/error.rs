//! Why an avatar could not be picked, and its one mapping to a gRPC status: the media
//! service's answers, beside the profile's own errors ([`UserError`]).

use std::time::Duration;

use platform_grpc::{Answer, ServiceError};
use tonic::{Code, Status};

use super::MediaError;
use crate::UserError;

#[derive(Debug, thiserror::Error)]
pub enum AvatarError {
    #[error("no such media")]
    MediaNotFound,
    #[error("the media belongs to another user")]
    MediaNotYours,
    #[error("the media is not ready")]
    MediaNotReady,
    #[error("the media service is unavailable")]
    MediaUnavailable,
    #[error("the media service did not answer in time")]
    MediaTimeout,
    /// Reading or writing the profile failed, or anything unexpected.
    #[error(transparent)]
    User(#[from] UserError),
}

impl From<MediaError> for AvatarError {
    fn from(e: MediaError) -> Self {
        match e {
            MediaError::Timeout(message) => {
                tracing::warn!(error = %message, "media service timed out");
                Self::MediaTimeout
            }
            MediaError::Unavailable(message) => {
                tracing::warn!(error = %message, "media service unavailable");
                Self::MediaUnavailable
            }
            MediaError::Failed(status) => Self::User(UserError::from(
                anyhow::Error::new(status).context("asking the media service"),
            )),
        }
    }
}

impl ServiceError for AvatarError {
    const DOMAIN: &'static str = UserError::DOMAIN;

    fn answer(&self) -> Answer {
        match self {
            Self::MediaNotFound => Answer::new(Code::NotFound, "MEDIA_NOT_FOUND", "no such media"),
            Self::MediaNotYours => Answer::new(
                Code::FailedPrecondition,
                "MEDIA_NOT_YOURS",
                "the media belongs to another user",
            ),
            Self::MediaNotReady => Answer::new(
                Code::FailedPrecondition,
                "MEDIA_NOT_READY",
                "the media is not processed yet (or its processing failed); only a ready media can be an avatar",
            ),
            Self::MediaUnavailable => Answer::new(
                Code::Unavailable,
                "MEDIA_UNAVAILABLE",
                "the media service is unavailable; retry later",
            )
            .retry_after(Duration::from_secs(1)),
            Self::MediaTimeout => Answer::new(
                Code::DeadlineExceeded,
                "MEDIA_TIMEOUT",
                "the media service did not answer in time",
            ),
            Self::User(e) => e.answer(),
        }
    }
}

impl From<AvatarError> for Status {
    fn from(error: AvatarError) -> Self {
        platform_grpc::into_status(&error)
    }
}
