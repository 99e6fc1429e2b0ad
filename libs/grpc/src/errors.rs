//! One way to put a service error on the wire: a `tonic::Status` whose details carry
//! `google.rpc.ErrorInfo` (the stable machine code in `reason`), `BadRequest` field
//! violations and `RetryInfo`. The gateway reads them back into problem+json.

use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

/// One invalid input field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: &'static str,
    pub description: String,
}

/// Builds the status for an error of a service.
///
/// ```
/// use platform_grpc::{error_status, FieldViolation};
/// use tonic::Code;
///
/// let bad = [FieldViolation { field: "bio", description: "too long".into() }];
/// let status = error_status("user", Code::InvalidArgument, "INVALID_INPUT", "invalid fields", &bad, None);
/// assert_eq!(status.code(), Code::InvalidArgument);
/// ```
pub fn error_status(
    domain: &str,
    code: Code,
    reason: &str,
    message: &str,
    violations: &[FieldViolation],
    retry_after: Option<Duration>,
) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(reason, domain, []);
    for v in violations {
        details.add_bad_request_violation(v.field, v.description.clone());
    }
    if let Some(after) = retry_after {
        details.set_retry_info(Some(after));
    }
    Status::with_error_details(code, message, details)
}
