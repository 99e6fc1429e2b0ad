//! Serving gRPC: health registered, a server-side timeout, and per-call context and metrics.
//!
//! Metrics: `grpc_server_requests_total{method,code}` and
//! `grpc_server_request_duration_seconds{method}` (histogram).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use platform_runtime::{CancellationToken, Readiness};
use platform_telemetry::context;
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic_health::ServingStatus;
use tracing::Instrument as _;

use crate::GrpcServerSettings;

/// A tonic server under construction.
///
/// ```no_run
/// # use platform_grpc::{GrpcServer, GrpcServerSettings};
/// # async fn run(listener: tokio::net::TcpListener, readiness: platform_runtime::Readiness,
/// #     stop: platform_runtime::CancellationToken) -> anyhow::Result<()> {
/// let server = GrpcServer::new(); // .add_service(AuthServiceServer::new(controller))
/// server.serve(listener, GrpcServerSettings::for_tests(), readiness, stop).await
/// # }
/// ```
pub struct GrpcServer {
    routes: Routes,
    names: Vec<&'static str>,
    reporter: tonic_health::server::HealthReporter,
}

impl Default for GrpcServer {
    fn default() -> Self {
        Self::new()
    }
}

impl GrpcServer {
    /// A server with the standard health service (`grpc.health.v1.Health`) already mounted.
    pub fn new() -> Self {
        let (reporter, health) = tonic_health::server::health_reporter();
        Self {
            routes: Routes::new(health),
            names: Vec::new(),
            reporter,
        }
    }

    /// Mounts a generated service; its health is reported under its full name.
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: tower::Service<http::Request<tonic::body::Body>, Error = std::convert::Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes = self.routes.add_service(service);
        self
    }

    /// Binds the gRPC port and serves on `host` until it stops; returns the bound address.
    pub async fn start(
        self,
        settings: GrpcServerSettings,
        host: &platform_runtime::ServiceHost,
    ) -> anyhow::Result<std::net::SocketAddr> {
        let listener = platform_runtime::bind(settings.addr, "the gRPC port").await?;
        let addr = listener.local_addr()?;
        let readiness = host.readiness().clone();
        host.lifecycle().spawn("grpc", move |stop| {
            self.serve(listener, settings, readiness, stop)
        });
        Ok(addr)
    }

    /// Serves until `stop` is cancelled, then finishes the calls in flight. Health turns
    /// `NOT_SERVING` as soon as the replica starts draining.
    pub async fn serve(
        self,
        listener: TcpListener,
        settings: GrpcServerSettings,
        readiness: Readiness,
        stop: CancellationToken,
    ) -> anyhow::Result<()> {
        let addr = listener.local_addr()?;
        for name in self.names.iter().copied().chain([""]) {
            self.reporter
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        let reporter = self.reporter.clone();
        let names = self.names.clone();
        let watcher = tokio::spawn(async move {
            readiness.draining().await;
            for name in names.into_iter().chain([""]) {
                reporter
                    .set_service_status(name, ServingStatus::NotServing)
                    .await;
            }
        });
        let result = tonic::transport::Server::builder()
            .timeout(settings.request_timeout)
            .layer(ServerContextLayer)
            .add_routes(self.routes)
            .serve_with_incoming_shutdown(
                // Nagle's algorithm would hold small responses back ~40 ms on the shared
                // HTTP/2 connection; tonic sets nodelay only on sockets it accepts itself.
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
                stop.cancelled_owned(),
            )
            .await;
        watcher.abort();
        result.map_err(|e| anyhow::anyhow!("gRPC server on {addr}: {e}"))
    }
}

/// Tower layer: each call gets a span that continues the caller's trace, runs with the
/// caller's request id (or a new one), and is counted and timed per method.
#[derive(Clone, Copy, Debug, Default)]
pub struct ServerContextLayer;

impl<S> tower::Layer<S> for ServerContextLayer {
    type Service = ServerContext<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServerContext { inner }
    }
}

#[derive(Clone, Debug)]
pub struct ServerContext<S> {
    inner: S,
}

impl<S, B, RB> tower::Service<http::Request<B>> for ServerContext<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let request_id = context::request_id_from(request.headers())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let span = tracing::info_span!(
            "grpc.request",
            otel.name = %method,
            otel.kind = "server",
            rpc.method = %method,
            request_id = %request_id,
        );
        context::extract(request.headers(), &span);
        let started = Instant::now();
        let call = self.inner.call(request);
        Box::pin(context::with_request_id(
            request_id,
            async move {
                let result = call.await;
                if let Ok(response) = &result {
                    // Errors travel as trailers-only responses, so the status is in the headers;
                    // a success's status comes later in the trailers, and is OK.
                    let code = response
                        .headers()
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<i32>().ok())
                        .map_or(tonic::Code::Ok, tonic::Code::from_i32);
                    let code = format!("{code:?}");
                    metrics::counter!("grpc_server_requests_total", "method" => method.clone(), "code" => code)
                        .increment(1);
                    metrics::histogram!("grpc_server_request_duration_seconds", "method" => method)
                        .record(started.elapsed().as_secs_f64());
                }
                result
            }
            .instrument(span),
        ))
    }
}
