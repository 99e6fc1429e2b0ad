//! The auth service's error, and its one mapping to a gRPC status.
//!
//! Every status carries `google.rpc.ErrorInfo` whose `reason` is a stable machine code (the
//! gateway turns it into the problem's `code`), plus `BadRequest` field violations or
//! `RetryInfo` where they apply.

use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

/// The `ErrorInfo.domain` of every error this service returns.
const DOMAIN: &str = "auth";

/// One invalid input field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: &'static str,
    pub description: String,
}

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
        match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                tracing::warn!(error = %e, "database unavailable");
                Self::DependencyUnavailable("database")
            }
            // 57014 query_canceled: our statement_timeout fired.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("57014") => {
                tracing::warn!(error = %e, "database statement timed out");
                Self::DependencyTimeout("database")
            }
            _ => Self::Unexpected(anyhow::Error::new(e).context("database error")),
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
        let mut details = ErrorDetails::new();
        details.set_error_info(reason, DOMAIN, []);
        match error {
            AuthError::InvalidInput(violations) => {
                for v in violations {
                    details.add_bad_request_violation(v.field, v.description);
                }
            }
            AuthError::Throttled { retry_after } => {
                details.set_retry_info(Some(retry_after));
            }
            AuthError::DependencyUnavailable(_) => {
                details.set_retry_info(Some(Duration::from_secs(1)));
            }
            _ => {}
        }
        Status::with_error_details(code, message, details)
    }
}
