//! Builds the gateway from its settings and binds its listeners before returning.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use platform_runtime::{Lifecycle, Readiness, ops, serve_http};
use tokio::net::TcpListener;

use crate::data::{AuthClient, JwksCache, UserClient};
use crate::service::TokenVerifier;
use crate::{AppState, Settings, routes};

pub struct App {
    lifecycle: Lifecycle,
    http_addr: SocketAddr,
    ops_addr: SocketAddr,
}

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let readiness = Readiness::new();
        let auth = AuthClient::new(platform_grpc::connect(&settings.auth)?);
        {
            let auth = auth.clone();
            readiness.add_check("auth", move || {
                let auth = auth.clone();
                async move { auth.check().await }
            });
        }
        let users = UserClient::new(platform_grpc::connect(&settings.users)?);
        {
            let users = users.clone();
            readiness.add_check("user", move || {
                let users = users.clone();
                async move { users.check().await }
            });
        }
        let jwks = Arc::new(JwksCache::new(auth.clone(), &settings.tokens));
        let state = AppState {
            verifier: Arc::new(TokenVerifier::new(jwks.clone(), &settings.tokens)),
            auth,
            users,
            jwks,
            trust_forwarded_for: settings.http.trust_forwarded_for,
        };
        let router = routes::router(state, &settings.http);

        let http_listener = TcpListener::bind(settings.http_addr)
            .await
            .with_context(|| format!("binding the HTTP port {}", settings.http_addr))?;
        let ops_listener = TcpListener::bind(settings.runtime.ops.addr)
            .await
            .with_context(|| format!("binding the ops port {}", settings.runtime.ops.addr))?;
        let http_addr = http_listener.local_addr()?;
        let ops_addr = ops_listener.local_addr()?;

        let lifecycle = Lifecycle::new(
            readiness.clone(),
            settings.runtime.shutdown_delay,
            settings.runtime.drain_deadline,
        );
        lifecycle.spawn("http", move |stop| serve_http(http_listener, router, stop));
        lifecycle.spawn("ops", move |stop| {
            serve_http(ops_listener, ops::router(readiness), stop)
        });
        tracing::info!(%http_addr, %ops_addr, "gateway listening");
        Ok(Self {
            lifecycle,
            http_addr,
            ops_addr,
        })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    pub fn ops_addr(&self) -> SocketAddr {
        self.ops_addr
    }

    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        self.lifecycle.run_until(signal).await
    }
}
