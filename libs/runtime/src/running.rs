//! A service that is up: what `App::build` returns, so tests, the native run and `main` reach
//! every service the same way (its addresses, and [`Running::run_until`]).

use std::future::Future;
use std::net::SocketAddr;
use std::ops::Deref;

use crate::ServiceHost;

/// A built service: every listener bound and serving, until [`run_until`](Self::run_until)'s
/// signal. `S` is the service's own part (its `App`), reached through `Deref`: the media
/// worker's exposes its CPU pool; most have none.
///
/// ```no_run
/// use platform_runtime::{Readiness, Running, RuntimeSettings, ServiceHost, bind};
///
/// # async fn run() -> anyhow::Result<()> {
/// let host = ServiceHost::start(&RuntimeSettings::for_tests(), Readiness::new()).await?;
/// let listener = bind("127.0.0.1:0".parse()?, "the HTTP port").await?;
/// let http_addr = listener.local_addr()?;
/// host.lifecycle().spawn("http", move |stop| platform_runtime::serve_http(listener, axum::Router::new(), stop));
/// let app = Running::new(host, ()).with_http_addr(http_addr);
/// println!("serving on {} (ops on {})", app.http_addr(), app.ops_addr());
/// app.run_until(platform_runtime::shutdown_signal()).await
/// # }
/// ```
pub struct Running<S = ()> {
    host: ServiceHost,
    service: S,
    grpc_addr: Option<SocketAddr>,
    http_addr: Option<SocketAddr>,
}

impl<S> Running<S> {
    /// The service on `host`, with no listener of its own besides the ops one (a worker).
    pub fn new(host: ServiceHost, service: S) -> Self {
        Self {
            host,
            service,
            grpc_addr: None,
            http_addr: None,
        }
    }

    /// Records where its gRPC server listens.
    pub fn with_grpc_addr(self, addr: SocketAddr) -> Self {
        Self {
            grpc_addr: Some(addr),
            ..self
        }
    }

    /// Records where its HTTP server listens.
    pub fn with_http_addr(self, addr: SocketAddr) -> Self {
        Self {
            http_addr: Some(addr),
            ..self
        }
    }

    /// Where its gRPC server listens (port 0 in the settings becomes the bound port).
    ///
    /// # Panics
    /// If the service has no gRPC server: a test asking for one is wrong.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr.expect("this service has no gRPC listener")
    }

    /// Where its HTTP server listens.
    ///
    /// # Panics
    /// If the service has no HTTP server: a test asking for one is wrong.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr.expect("this service has no HTTP listener")
    }

    /// Where its ops listener (`/healthz`, `/readyz`, `/metrics`) listens.
    pub fn ops_addr(&self) -> SocketAddr {
        self.host.ops_addr()
    }

    /// Serves until `signal`, then drains (see [`Lifecycle::run_until`](crate::Lifecycle::run_until)).
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        self.host.run_until(signal).await
    }
}

impl<S> Deref for Running<S> {
    type Target = S;

    fn deref(&self) -> &S {
        &self.service
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn it_gives_the_addresses_it_was_given_and_the_hosts_ops_address() {
        let host = ServiceHost::for_tests().await;
        let ops_addr = host.ops_addr();
        let grpc_addr = "127.0.0.1:50051".parse().unwrap();
        let app = Running::new(host, "the service's own part").with_grpc_addr(grpc_addr);
        assert_eq!(app.grpc_addr(), grpc_addr);
        assert_eq!(app.ops_addr(), ops_addr);
        assert_eq!(*app, "the service's own part");
        app.run_until(async {}).await.unwrap();
    }

    #[tokio::test]
    #[should_panic(expected = "no HTTP listener")]
    async fn asking_for_a_listener_it_does_not_have_is_a_bug() {
        let host = ServiceHost::for_tests().await;
        Running::new(host, ()).http_addr();
    }
}
