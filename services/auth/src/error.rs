//! The auth service's error, and its one mapping to a gRPC status.
//!
//! Every status carries `google.rpc.ErrorInfo` whose `reason` is a stable machine code (the
//! gateway turns it into the problem's `code`), plus `BadRequest` field violations or
//! `RetryInfo` where they apply.

use std::time::Duration;

use platform_grpc::{Answer, ServiceError};
use platform_postgres::DataError;
use tonic::{Code, Status};

pub use platform_grpc::FieldViolation;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid input: {0:?}")]
    InvalidInput(Vec<FieldViolation>),
    #[error("the email is already registered")]
    EmailTaken,
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("too many failed logins; retry after {retry_after:?}")]
    Throttled { retry_after: Duration },
    #[error("the refresh token is invalid, expired, spent or revoked")]
    InvalidRefreshToken,
    #[error("{0} did not answer in time")]
    DependencyTimeout(&'static str),
    #[error("{0} is unavailable")]
    DependencyUnavailable(&'static str),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A database failure, as `platform_postgres::DataError` classifies (and logs) it.
impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        match DataError::from(e) {
            DataError::Unavailable(_) => Self::DependencyUnavailable("database"),
            DataError::Timeout(_) => Self::DependencyTimeout("database"),
            other => Self::Unexpected(other.into()),
        }
    }
}

impl ServiceError for AuthError {
    const DOMAIN: &'static str = "auth";

    fn answer(&self) -> Answer {
        match self {
            Self::InvalidInput(fields) => Answer::invalid_input(fields),
            Self::EmailTaken => Answer::new(
                Code::AlreadyExists,
                "EMAIL_TAKEN",
                "an account with this email already exists",
            ),
            Self::InvalidCredentials => Answer::new(
                Code::Unauthenticated,
                "INVALID_CREDENTIALS",
                "invalid email or password",
            ),
            Self::Throttled { retry_after } => Answer::new(
                Code::ResourceExhausted,
                "TOO_MANY_ATTEMPTS",
                "too many failed logins; try again later",
            )
            .retry_after(*retry_after),
            Self::InvalidRefreshToken => Answer::new(
                Code::Unauthenticated,
                "INVALID_REFRESH_TOKEN",
                "the refresh token is invalid, expired or revoked",
            ),
            Self::DependencyTimeout(_) => Answer::DEPENDENCY_TIMEOUT,
            Self::DependencyUnavailable(_) => Answer::DEPENDENCY_UNAVAILABLE,
            Self::Unexpected(_) => Answer::INTERNAL,
        }
    }
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        platform_grpc::into_status(&error)
    }
}
