//! The auth service's error, and its one mapping to a gRPC status.
//!
//! Every status carries `google.rpc.ErrorInfo` whose `reason` is a stable machine code (the
//! gateway turns it into the problem's `code`), plus `BadRequest` field violations or
//! `RetryInfo` where they apply.

use std::time::Duration;

use tonic::{Code, Status};

/// The `ErrorInfo.domain` of every error this service returns.
const DOMAIN: &str = "auth";

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

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        use platform_postgres::Failure;
        match platform_postgres::classify(&e) {
            Failure::Unavailable => {
                tracing::warn!(error = %e, "database unavailable");
                Self::DependencyUnavailable("database")
            }
            Failure::Timeout => {
                tracing::warn!(error = %e, "database statement timed out");
                Self::DependencyTimeout("database")
            }
            Failure::Other => Self::Unexpected(anyhow::Error::new(e).context("database error")),
        }
    }
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        let (code, reason, message) = match &error {
            AuthError::InvalidInput(_) => (
                Code::InvalidArgument,
                "INVALID_INPUT",
                "the request has invalid fields",
            ),
            AuthError::EmailTaken => (
                Code::AlreadyExists,
                "EMAIL_TAKEN",
                "an account with this email already exists",
            ),
            AuthError::InvalidCredentials => (
                Code::Unauthenticated,
                "INVALID_CREDENTIALS",
                "invalid email or password",
            ),
            AuthError::Throttled { .. } => (
                Code::ResourceExhausted,
                "TOO_MANY_ATTEMPTS",
                "too many failed logins; try again later",
            ),
            AuthError::InvalidRefreshToken => (
                Code::Unauthenticated,
                "INVALID_REFRESH_TOKEN",
                "the refresh token is invalid, expired or revoked",
            ),
            AuthError::DependencyTimeout(_) => (
                Code::DeadlineExceeded,
                "DEPENDENCY_TIMEOUT",
                "a dependency did not answer in time",
            ),
            AuthError::DependencyUnavailable(_) => (
                Code::Unavailable,
                "DEPENDENCY_UNAVAILABLE",
                "a dependency is unavailable",
            ),
            AuthError::Unexpected(cause) => {
                // The only place an unexpected error is logged; the caller learns nothing internal.
                tracing::error!(error = ?cause, "unexpected error");
                (Code::Internal, "INTERNAL", "internal error")
            }
        };
        let retry_after = match &error {
            AuthError::Throttled { retry_after } => Some(*retry_after),
            AuthError::DependencyUnavailable(_) => Some(Duration::from_secs(1)),
            _ => None,
        };
        let violations = match error {
            AuthError::InvalidInput(violations) => violations,
            _ => Vec::new(),
        };
        platform_grpc::error_status(DOMAIN, code, reason, message, &violations, retry_after)
    }
}
