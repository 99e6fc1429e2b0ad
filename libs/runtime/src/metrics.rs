//! Prometheus metrics: one recorder per process, its upkeep (so memory stays bounded when
//! nobody scrapes), and the HTTP request metrics every axum server records (count, latency
//! histogram and errors per route).
//!
//! Metric names used across the platform:
//! - `http_server_requests_total{method,route,status}`
//! - `http_server_request_duration_seconds{method,route}` (histogram)
//! - `http_server_errors_total{method,route,status}` (5xx answers)

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds, from sub-millisecond cache hits to the slowest deadline.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often the recorder's upkeep runs (see [`run_upkeep`]); the exporter's own default.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

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

/// Folds the histogram samples recorded since the last run into their buckets, every
/// [`UPKEEP_EVERY`] until `stop`. The recorder keeps each sample until a scrape or an upkeep
/// does that, so without it a pod that nobody scrapes grows by every request it serves.
/// [`ServiceHost::start`](crate::ServiceHost::start) runs it for every service.
///
/// ```no_run
/// # fn run(lifecycle: &platform_runtime::Lifecycle) {
/// lifecycle.spawn("metrics upkeep", platform_runtime::metrics::run_upkeep);
/// # }
/// ```
pub async fn run_upkeep(stop: tokio_util::sync::CancellationToken) -> anyhow::Result<()> {
    let handle = handle();
    let mut every = tokio::time::interval(UPKEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            _ = every.tick() => handle.run_upkeep(),
        }
    }
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
