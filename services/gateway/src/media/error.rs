//! How a failed upload answers: the body's own error as it was, the media service's size
//! refusal as 413 and its full backlog as 503 saying when to retry. Every other status maps
//! as any upstream's does (`From<tonic::Status>` of [`ApiError`]).

use std::time::Duration;

use axum::http::StatusCode;
use tonic::Code;
use tonic_types::StatusExt as _;

use super::data::UploadError;
use crate::ApiError;

/// The media service's reason for refusing an upload while too many wait to be processed.
pub const UPLOAD_BACKLOG_FULL: &str = "UPLOAD_BACKLOG_FULL";

/// An upload that failed: the body's own error as it was, the media service's size refusal
/// as 413 (its RESOURCE_EXHAUSTED means "too large" on Upload, not "slow down"), its full
/// backlog as 503 saying so (a refusal by design, not a failure to log), and any other
/// status as usual.
impl From<UploadError<ApiError>> for ApiError {
    fn from(error: UploadError<ApiError>) -> Self {
        match error {
            UploadError::Body(error) => error,
            UploadError::TooLarge => {
                Self::payload_too_large("the image is larger than the media service accepts")
            }
            UploadError::Upstream(status) => match backlog_full(&status) {
                Some(retry_after) => Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    UPLOAD_BACKLOG_FULL,
                    "too many uploads are waiting to be processed; retry later",
                )
                .with_retry_after(retry_after),
                None => status.into(),
            },
        }
    }
}

/// When `status` is the media service's full backlog: when to retry (its `RetryInfo`, or 1 s).
fn backlog_full(status: &tonic::Status) -> Option<Duration> {
    let details = status.get_error_details();
    let reason = details.error_info().map(|info| info.reason.as_str());
    (status.code() == Code::Unavailable && reason == Some(UPLOAD_BACKLOG_FULL)).then(|| {
        details
            .retry_info()
            .and_then(|info| info.retry_delay)
            .unwrap_or(Duration::from_secs(1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::ErrorDetails;

    #[test]
    fn a_media_service_size_refusal_on_upload_is_413_not_429() {
        let status = tonic::Status::resource_exhausted("too large");
        assert_eq!(
            ApiError::from(status.clone()).status,
            StatusCode::TOO_MANY_REQUESTS
        );
        let error = ApiError::from(UploadError::<ApiError>::from(status));
        assert_eq!(error.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(error.code, "PAYLOAD_TOO_LARGE");
    }

    #[test]
    fn a_full_upload_backlog_is_503_saying_so_and_when_to_retry() {
        let mut details = ErrorDetails::new();
        details.set_error_info(UPLOAD_BACKLOG_FULL, "media", []);
        details.set_retry_info(Some(Duration::from_secs(10)));
        let status = tonic::Status::with_error_details(Code::Unavailable, "full", details);
        let error = ApiError::from(UploadError::<ApiError>::from(status));
        assert_eq!(error.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error.code, UPLOAD_BACKLOG_FULL);
        assert_eq!(
            error.detail,
            "too many uploads are waiting to be processed; retry later"
        );
        assert_eq!(error.retry_after, Some(Duration::from_secs(10)));
        assert!(
            error.cause.is_none(),
            "a refusal by design is not logged as a failure"
        );
        // Any other unavailability keeps the generic answer.
        let other = ApiError::from(UploadError::<ApiError>::from(tonic::Status::unavailable(
            "x",
        )));
        assert_eq!(other.code, "UPSTREAM_UNAVAILABLE");
    }
}
