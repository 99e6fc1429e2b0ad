//! The request context that crosses process boundaries: the W3C trace context
//! (`traceparent`, `tracestate`) and the `x-request-id`.
//!
//! Inbound, a server calls [`extract`] on the request headers and runs the handler inside
//! [`with_request_id`]; outbound, a client calls [`inject`] on the headers it sends. HTTP
//! headers and gRPC metadata are both an [`http::HeaderMap`], so one pair serves both.
//!
//! ```
//! use platform_telemetry::context::{current_request_id, inject, with_request_id, REQUEST_ID_HEADER};
//!
//! # tokio_test_block_on(async {
//! let mut outbound = http::HeaderMap::new();
//! with_request_id("req-1".into(), async { inject(&mut outbound) }).await;
//! assert_eq!(outbound[REQUEST_ID_HEADER], "req-1");
//! assert_eq!(current_request_id(), None);
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::future::Future;

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The header (and gRPC metadata key) that carries the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Runs `fut` with `id` as the current request id, so outbound calls made inside carry it.
pub async fn with_request_id<F: Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

/// The request id of the request being served, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The request id a peer sent, if it is a sane header value.
pub fn request_id_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
}

/// Writes the current span's trace context and the current request id into `headers`.
pub fn inject(headers: &mut HeaderMap) {
    let cx = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&cx, &mut HeaderCarrier(headers));
    });
    if let Some(id) = current_request_id()
        && let Ok(value) = HeaderValue::from_str(&id)
    {
        headers.insert(REQUEST_ID_HEADER, value);
    }
}

/// Makes `span` a child of the trace context found in `headers`, when there is one.
pub fn extract(headers: &HeaderMap, span: &tracing::Span) {
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        // The extractor only reads; the carrier wants `&mut` for the injector's sake.
        propagator.extract(&HeaderReader(headers))
    });
    // Fails only when no OpenTelemetry layer is installed, where there is nothing to link.
    let _ = span.set_parent(parent);
}

struct HeaderCarrier<'a>(&'a mut HeaderMap);

impl Injector for HeaderCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

struct HeaderReader<'a>(&'a HeaderMap);

impl Extractor for HeaderReader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}
