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
/// (`ErrorInfo.reason`, the gateway's problem `code`), a message for people, the invalid
/// fields, and when trying again may succeed. Never anything internal: the message is fixed
/// per kind of error, not built from its cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub code: Code,
    pub reason: &'static str,
    pub message: &'static str,
    pub violations: Vec<FieldViolation>,
    pub retry_after: Option<Duration>,
}

impl Answer {
    pub const fn new(code: Code, reason: &'static str, message: &'static str) -> Self {
        Self {
            code,
            reason,
            message,
            violations: Vec::new(),
            retry_after: None,
        }
    }

    /// Input the service refuses, naming each bad field (`BadRequest`).
    pub fn invalid_input(violations: &[FieldViolation]) -> Self {
        Self::new(
            Code::InvalidArgument,
            "INVALID_INPUT",
            "the request has invalid fields",
        )
        .with_violations(violations.to_vec())
    }

    /// The same answer, naming the fields at fault.
    pub fn with_violations(mut self, violations: Vec<FieldViolation>) -> Self {
        self.violations = violations;
        self
    }

    /// The same answer, telling the caller when to try again (`RetryInfo`, the gateway's
    /// `Retry-After`).
    pub const fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// A database, a store or a peer did not answer within its deadline.
    pub const DEPENDENCY_TIMEOUT: Self = Self::new(
        Code::DeadlineExceeded,
        "DEPENDENCY_TIMEOUT",
        "a dependency did not answer in time",
    );
    /// A database, a store or a peer cannot be reached now; worth a retry in a second.
    pub const DEPENDENCY_UNAVAILABLE: Self = Self::new(
        Code::Unavailable,
        "DEPENDENCY_UNAVAILABLE",
        "a dependency is unavailable",
    )
    .retry_after(Duration::from_secs(1));
    /// A bug or a failure nobody mapped: logged by [`into_status`], opaque to the caller.
    pub const INTERNAL: Self = Self::new(Code::Internal, "INTERNAL", "internal error");
}

/// A service's error type, as its callers see it: one [`Answer`] per variant.
///
/// ```
/// use platform_grpc::{Answer, FieldViolation, ServiceError, into_status};
/// use tonic::{Code, Status};
///
/// #[derive(Debug)]
/// enum UserError { InvalidInput(Vec<FieldViolation>), NotFound, Unexpected(String) }
///
/// impl ServiceError for UserError {
///     const DOMAIN: &'static str = "user";
///     fn answer(&self) -> Answer {
///         match self {
///             Self::InvalidInput(fields) => Answer::invalid_input(fields),
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
    for v in answer.violations {
        details.add_bad_request_violation(v.field, v.description);
    }
    if let Some(after) = answer.retry_after {
        details.set_retry_info(Some(after));
    }
    Status::with_error_details(answer.code, answer.message, details)
}
