//! Prometheus metrics: one recorder per process, and the HTTP request metrics every axum
//! server records (count, latency histogram and errors per route).
//!
//! Metric names used across the platform:
//! - `http_server_requests_total{method,route,status}`
//! - `http_server_request_duration_seconds{method,route}` (histogram)
//! - `http_server_errors_total{method,route,status}` (5xx answers)

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds, from sub-millisecond cache hits to the slowest deadline.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide recorder, installed on first use (several apps in one test process
/// share it).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(LATENCY_BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder was installed first; ours then records nothing,
        // which a test would notice at once.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed");
        }
        handle
    })
}

/// axum middleware recording request count, latency and 5xx errors per matched route.
///
/// ```
/// use axum::{Router, routing::get, middleware};
/// let app: Router = Router::new()
///     .route("/ping", get(|| async { "pong" }))
///     .layer(middleware::from_fn(platform_runtime::metrics::track_http));
/// ```
pub async fn track_http(request: Request, next: Next) -> Response {
    handle();
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    // The route template, never the raw path, so ids do not explode the label set.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route)];
    metrics::histogram!("http_server_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    let [method, route] = labels;
    let labels = [method, route, ("status", status)];
    metrics::counter!("http_server_requests_total", &labels).increment(1);
    if response.status().is_server_error() {
        metrics::counter!("http_server_errors_total", &labels).increment(1);
    }
    response
}
