//! The frame every service runs in: its ops listener, its readiness and its lifecycle.
//!
//! A service's `App::build` starts a [`ServiceHost`], binds its own listeners with [`bind`],
//! spawns its servers and background tasks on the host's [`Lifecycle`], and returns the host
//! with its addresses as a [`Running`](crate::Running), whose `run_until` serves.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::{Lifecycle, Readiness, RuntimeSettings, ops, serve_http};

/// Binds `addr`, naming `what` in the error (e.g. "the gRPC port").
pub async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {what} {addr}"))
}

/// A running service's frame: the ops listener is bound and serving when this exists.
///
/// ```no_run
/// use platform_runtime::{bind, shutdown_signal, Readiness, RuntimeSettings, ServiceHost};
///
/// # async fn run() -> anyhow::Result<()> {
/// let host = ServiceHost::start(&RuntimeSettings::for_tests(), Readiness::new()).await?;
/// let listener = bind("127.0.0.1:0".parse()?, "the HTTP port").await?;
/// host.lifecycle().spawn("http", move |stop| platform_runtime::serve_http(listener, axum::Router::new(), stop));
/// host.run_until(shutdown_signal()).await
/// # }
/// ```
pub struct ServiceHost {
    lifecycle: Lifecycle,
    readiness: Readiness,
    ops_addr: SocketAddr,
}

impl ServiceHost {
    /// Binds the ops listener (`/healthz`, `/readyz`, `/metrics`) and serves it, keeps the
    /// metrics recorder's memory bounded ([`metrics::run_upkeep`](crate::metrics::run_upkeep))
    /// and exports the process's memory and its limit
    /// ([`process::run_sampler`](crate::process::run_sampler)).
    pub async fn start(settings: &RuntimeSettings, readiness: Readiness) -> anyhow::Result<Self> {
        let listener = bind(settings.ops.addr, "the ops port").await?;
        let ops_addr = listener.local_addr()?;
        let lifecycle = Lifecycle::new(
            readiness.clone(),
            settings.shutdown_delay,
            settings.drain_deadline,
        );
        let router = ops::router(readiness.clone());
        lifecycle.spawn("ops", move |stop| serve_http(listener, router, stop));
        lifecycle.spawn("metrics upkeep", crate::metrics::run_upkeep);
        // Sampled once now as well, so the very first scrape has them.
        crate::process::sample();
        lifecycle.spawn("process metrics", crate::process::run_sampler);
        Ok(Self {
            lifecycle,
            readiness,
            ops_addr,
        })
    }

    /// A host for tests: the ops listener on an ephemeral port, a readiness of its own, and
    /// no shutdown delay ([`RuntimeSettings::for_tests`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let host = platform_runtime::ServiceHost::for_tests().await;
    /// assert_ne!(host.ops_addr().port(), 0);
    /// # }
    /// ```
    ///
    /// # Panics
    /// If no port can be bound on 127.0.0.1.
    pub async fn for_tests() -> Self {
        Self::start(&RuntimeSettings::for_tests(), Readiness::new())
            .await
            .expect("an ephemeral ops port on 127.0.0.1")
    }

    /// Where the service's servers and background tasks run.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    pub fn ops_addr(&self) -> SocketAddr {
        self.ops_addr
    }

    /// Serves until `signal`, then drains (see [`Lifecycle::run_until`]).
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        self.lifecycle.run_until(signal).await
    }
}
