//! The gateway's error: every failure becomes an RFC 9457 `application/problem+json` body
//! with a stable machine `code` and the `request_id`.
//!
//! Upstream gRPC statuses map here and only here (`From<tonic::Status>`): the `code` is the
//! upstream's `ErrorInfo.reason`, field violations become `errors`, `RetryInfo` becomes
//! `Retry-After`. 5xx bodies say nothing internal; the cause is logged once by middleware.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tonic::Code;
use tonic_types::StatusExt as _;
use utoipa::ToSchema;

use crate::service::TokenError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name in the request body, e.g. `email`.
    pub field: String,
    /// What is wrong with it.
    pub detail: String,
}

/// The body of every error response (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `EMAIL_TAKEN`.
    pub code: String,
    /// The `x-request-id` of the request, for support and log search.
    pub request_id: Option<String>,
    /// Present for invalid input: every bad field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<Duration>,
    /// Logged by middleware, never sent.
    pub(crate) cause: Option<String>,
}

/// Carries an error's cause from the response to the logging middleware.
#[derive(Clone, Debug)]
pub struct ErrorCause(pub String);

impl ApiError {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            cause: None,
        }
    }

    /// 400 `INVALID_INPUT` naming every bad field.
    pub fn invalid_input(errors: Vec<FieldError>) -> Self {
        let names: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let detail = format!("invalid fields: {}", names.join(", "));
        let mut error = Self::new(StatusCode::BAD_REQUEST, "INVALID_INPUT", detail);
        error.errors = errors;
        error
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", detail)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such resource")
    }

    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", detail)
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            detail,
        )
    }

    /// A 5xx whose `cause` is logged but not shown.
    pub fn internal(cause: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "internal error",
        );
        e.cause = Some(cause.into());
        e
    }

    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// The generic problem for a bare status (unknown route, a tower layer's answer).
    pub fn from_status(status: StatusCode) -> Self {
        let (code, detail) = match status {
            StatusCode::NOT_FOUND => ("NOT_FOUND", "no such resource"),
            StatusCode::METHOD_NOT_ALLOWED => {
                ("METHOD_NOT_ALLOWED", "this method is not allowed here")
            }
            StatusCode::PAYLOAD_TOO_LARGE => ("PAYLOAD_TOO_LARGE", "the request body is too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "UNSUPPORTED_MEDIA_TYPE",
                "the content type is not supported",
            ),
            StatusCode::GATEWAY_TIMEOUT => ("TIMEOUT", "the request took too long"),
            StatusCode::SERVICE_UNAVAILABLE => {
                ("UNAVAILABLE", "the service is unavailable; retry later")
            }
            StatusCode::TOO_MANY_REQUESTS => {
                ("TOO_MANY_REQUESTS", "too many requests; retry later")
            }
            s if s.is_server_error() => ("INTERNAL", "internal error"),
            _ => ("BAD_REQUEST", "the request is invalid"),
        };
        Self::new(status, code, detail)
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!(
                "/problems/{}",
                self.code.to_ascii_lowercase().replace('_', "-")
            ),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.clone(),
            request_id: platform_telemetry::context::current_request_id(),
            errors: self.errors.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(after) = self.retry_after {
            // Retry-After is whole seconds; round up so clients never retry too early.
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(ErrorCause(cause));
        }
        response
    }
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        match error {
            // Auth could not be asked for its keys: its status says how (503, 504, ...).
            TokenError::Keys(status) => Self::from(status),
            refused => Self::unauthorized(refused.to_string()),
        }
    }
}

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        let details = status.get_error_details();
        let reason = details.error_info().map(|info| info.reason.clone());
        let retry_after = details.retry_info().and_then(|r| r.retry_delay);
        let (http, default_code) = match status.code() {
            Code::InvalidArgument | Code::OutOfRange => (StatusCode::BAD_REQUEST, "INVALID_INPUT"),
            Code::AlreadyExists => (StatusCode::CONFLICT, "CONFLICT"),
            Code::FailedPrecondition | Code::Aborted => (StatusCode::CONFLICT, "CONFLICT"),
            Code::Unauthenticated => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            Code::PermissionDenied => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            Code::NotFound => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            Code::ResourceExhausted => (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS"),
            // A deadline that fired on either side; tonic reports its own timeout as Cancelled.
            Code::DeadlineExceeded | Code::Cancelled => {
                (StatusCode::GATEWAY_TIMEOUT, "UPSTREAM_TIMEOUT")
            }
            Code::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "UPSTREAM_UNAVAILABLE"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL"),
        };
        let mut error = if http.is_server_error() {
            let mut e = Self::from_status(http);
            e.code = reason.unwrap_or_else(|| default_code.to_owned());
            e.cause = Some(format!(
                "upstream {:?}: {}",
                status.code(),
                status.message()
            ));
            e
        } else {
            // Upstream messages for client errors are written for users.
            Self::new(
                http,
                reason.as_deref().unwrap_or(default_code),
                status.message(),
            )
        };
        if let Some(bad_request) = details.bad_request() {
            error.errors = bad_request
                .field_violations
                .iter()
                .map(|v| FieldError {
                    field: v.field.clone(),
                    detail: v.description.clone(),
                })
                .collect();
        }
        if http == StatusCode::TOO_MANY_REQUESTS || http == StatusCode::SERVICE_UNAVAILABLE {
            error.retry_after = Some(retry_after.unwrap_or(Duration::from_secs(1)));
        }
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::ErrorDetails;

    #[test]
    fn field_violations_become_named_errors() {
        let mut details = ErrorDetails::new();
        details.set_error_info("INVALID_INPUT", "auth", []);
        details.add_bad_request_violation("email", "is not an email address");
        let status = tonic::Status::with_error_details(Code::InvalidArgument, "bad", details);
        let error = ApiError::from(status);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.errors[0].field, "email");
    }

    #[test]
    fn unavailable_upstreams_say_when_to_retry() {
        let error = ApiError::from(tonic::Status::unavailable("connection refused"));
        assert_eq!(error.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error.retry_after, Some(Duration::from_secs(1)));
        assert!(
            !error.detail.contains("refused"),
            "internal details stay out of 5xx bodies"
        );
    }

    #[test]
    fn deadlines_map_to_gateway_timeout() {
        let error = ApiError::from(tonic::Status::deadline_exceeded("auth did not answer"));
        assert_eq!(error.status, StatusCode::GATEWAY_TIMEOUT);
    }
}
