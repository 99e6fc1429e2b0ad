//! The gateway's own middleware; the rest of the stack is tower-http (see `routes`).

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use platform_telemetry::context;
use tower::BoxError;

use crate::ApiError;
use crate::error::{ErrorCause, PROBLEM_JSON};

/// The span of one HTTP request: named after the request id, and a child of the caller's
/// trace when the request carries a `traceparent`. The parent must be set before anything
/// runs inside the span, so this is done where the span is made.
pub fn http_span(request: &Request) -> tracing::Span {
    let request_id = request
        .headers()
        .get(context::REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "http.request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id,
    );
    context::extract(request.headers(), &span);
    span
}

/// Runs the request with its request id in scope, logs an error's cause once, and
/// turns any bare error answer (unknown route, a tower layer's 413/504) into problem+json.
pub async fn request_context(request: Request, next: Next) -> Response {
    let request_id = context::request_id_from(request.headers()).unwrap_or_default();
    context::with_request_id(request_id, async move {
        let response = next.run(request).await;
        if let Some(ErrorCause(cause)) = response.extensions().get::<ErrorCause>() {
            tracing::error!(status = response.status().as_u16(), cause, "request failed");
        }
        let is_problem = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
        if response.status().as_u16() < 400 || is_problem {
            return response;
        }
        let (parts, _) = response.into_parts();
        let mut problem = ApiError::from_status(parts.status).into_response();
        for name in [header::RETRY_AFTER, header::ALLOW] {
            if let Some(value) = parts.headers.get(&name) {
                problem.headers_mut().insert(name, value.clone());
            }
        }
        problem
    })
    .await
}

/// The answer when load shedding refuses a request: 503 with `Retry-After`.
pub async fn overloaded(error: BoxError) -> ApiError {
    if error.is::<tower::load_shed::error::Overloaded>() {
        ApiError::from_status(axum::http::StatusCode::SERVICE_UNAVAILABLE)
            .with_retry_after(std::time::Duration::from_secs(1))
    } else {
        ApiError::internal(format!("middleware failed: {error}"))
    }
}
