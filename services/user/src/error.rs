//! The user service's error, and its one mapping to a gRPC status.

use std::sync::Arc;
use std::time::Duration;

use platform_grpc::{Answer, ServiceError};
use platform_postgres::DataError;
use tonic::{Code, Status};

use crate::data::ShardError;

pub use platform_grpc::FieldViolation;

/// Cloneable, so one load's outcome can be shared by every caller waiting on it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UserError {
    #[error("invalid input: {0:?}")]
    InvalidInput(Vec<FieldViolation>),
    #[error("no such user")]
    NotFound,
    #[error("the database of region {0} is unavailable")]
    ShardUnavailable(String),
    #[error("the database of region {0} did not answer in time")]
    ShardTimeout(String),
    #[error(transparent)]
    Unexpected(Arc<anyhow::Error>),
}

impl From<anyhow::Error> for UserError {
    fn from(e: anyhow::Error) -> Self {
        Self::Unexpected(Arc::new(e))
    }
}

/// A shard's failure, as `platform_postgres::DataError` classified (and logged) it.
impl From<ShardError> for UserError {
    fn from(e: ShardError) -> Self {
        match e.source {
            DataError::Unavailable(_) => Self::ShardUnavailable(e.region),
            DataError::Timeout(_) => Self::ShardTimeout(e.region),
            DataError::Other(_) => Self::from(anyhow::Error::new(e)),
        }
    }
}

impl ServiceError for UserError {
    const DOMAIN: &'static str = "user";

    fn answer(&self) -> Answer {
        match self {
            Self::InvalidInput(fields) => Answer::invalid_input(fields),
            Self::NotFound => Answer::new(Code::NotFound, "USER_NOT_FOUND", "no such user"),
            Self::ShardUnavailable(_) => Answer::new(
                Code::Unavailable,
                "REGION_UNAVAILABLE",
                "the user's region is unavailable; retry later",
            )
            .retry_after(Duration::from_secs(1)),
            Self::ShardTimeout(_) => Answer::new(
                Code::DeadlineExceeded,
                "REGION_TIMEOUT",
                "the user's region did not answer in time",
            ),
            Self::Unexpected(_) => Answer::INTERNAL,
        }
    }
}

impl From<UserError> for Status {
    fn from(error: UserError) -> Self {
        platform_grpc::into_status(&error)
    }
}
