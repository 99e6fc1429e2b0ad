//! One way to put a service error on the wire: a `tonic::Status` whose details carry
//! `google.rpc.ErrorInfo` (the stable machine code in `reason`), `BadRequest` field
//! violations and `RetryInfo`. The gateway reads them back into problem+json.
//!
//! A service's error type implements [`ServiceError`] (one [`Answer`] per variant) and its
//! `From<…> for Status` is one call to [`into_status`].

use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

/// One invalid input field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: &'static str,
    pub description: String,
}

/// What a caller is told of an error: the status code, the stable machine code
/// (`ErrorInfo.reason`, the gateway's problem `code`) and a message for people. Never anything
/// internal: the message is fixed per kind of error, not built from its cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub code: Code,
    pub reason: &'static str,
    pub message: &'static str,
}

impl Answer {
    pub const fn new(code: Code, reason: &'static str, message: &'static str) -> Self {
        Self {
            code,
            reason,
            message,
        }
    }

    /// Input the service refuses; the violations name each field.
    pub const INVALID_INPUT: Self = Self::new(
        Code::InvalidArgument,
        "INVALID_INPUT",
        "the request has invalid fields",
    );
    /// A database, a store or a peer did not answer within its deadline.
    pub const DEPENDENCY_TIMEOUT: Self = Self::new(
        Code::DeadlineExceeded,
        "DEPENDENCY_TIMEOUT",
        "a dependency did not answer in time",
    );
    /// A database, a store or a peer cannot be reached now.
    pub const DEPENDENCY_UNAVAILABLE: Self = Self::new(
        Code::Unavailable,
        "DEPENDENCY_UNAVAILABLE",
        "a dependency is unavailable",
    );
    /// A bug or a failure nobody mapped: logged by [`into_status`], opaque to the caller.
    pub const INTERNAL: Self = Self::new(Code::Internal, "INTERNAL", "internal error");
}

/// A service's error type, as its callers see it.
///
/// ```
/// use platform_grpc::{Answer, ServiceError, into_status};
/// use tonic::{Code, Status};
///
/// #[derive(Debug)]
/// enum UserError { NotFound, Unexpected(String) }
///
/// impl ServiceError for UserError {
///     const DOMAIN: &'static str = "user";
///     fn answer(&self) -> Answer {
///         match self {
///             Self::NotFound => Answer::new(Code::NotFound, "USER_NOT_FOUND", "no such user"),
///             Self::Unexpected(_) => Answer::INTERNAL,
///         }
///     }
/// }
///
/// impl From<UserError> for Status {
///     fn from(error: UserError) -> Self {
///         into_status(&error)
///     }
/// }
///
/// assert_eq!(Status::from(UserError::NotFound).code(), Code::NotFound);
/// ```
pub trait ServiceError: std::fmt::Debug {
    /// The `ErrorInfo.domain` of every error of this service, e.g. `"user"`.
    const DOMAIN: &'static str;

    /// What the caller is told.
    fn answer(&self) -> Answer;

    /// The invalid fields, for an [`Answer::INVALID_INPUT`] (or any answer naming fields).
    fn field_violations(&self) -> Vec<FieldViolation> {
        Vec::new()
    }

    /// When trying again may succeed (`RetryInfo`, the gateway's `Retry-After`).
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// `error` as a status with its details. An [`Answer::INTERNAL`] is logged here with its
/// cause, the only place an unexpected error is logged; the caller learns nothing internal.
pub fn into_status<E: ServiceError>(error: &E) -> Status {
    let answer = error.answer();
    if answer.code == Code::Internal {
        tracing::error!(error = ?error, "unexpected error");
    }
    let mut details = ErrorDetails::new();
    details.set_error_info(answer.reason, E::DOMAIN, []);
    for v in error.field_violations() {
        details.add_bad_request_violation(v.field, v.description);
    }
    if let Some(after) = error.retry_after() {
        details.set_retry_info(Some(after));
    }
    Status::with_error_details(answer.code, answer.message, details)
}
