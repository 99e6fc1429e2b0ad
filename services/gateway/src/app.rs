//! Builds the gateway from its settings and binds its listeners before returning.

use std::net::SocketAddr;
use std::sync::Arc;

use platform_runtime::{Readiness, ServiceHost, bind, serve_http};

use crate::controller::media::MediaLinks;
use crate::data::{AuthClient, JwksCache, MediaClient, UserClient};
use crate::service::TokenVerifier;
use crate::{AppState, Settings, routes};

pub struct App {
    host: ServiceHost,
    http_addr: SocketAddr,
}

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let readiness = Readiness::new();
        let auth = AuthClient::new(platform_grpc::connect(&settings.auth)?);
        let users = UserClient::new(platform_grpc::connect(&settings.users)?);
        let media = MediaClient::new(
            platform_grpc::connect(&settings.media)?,
            settings.media.request_timeout,
            settings.uploads.timeout,
        );
        // Every upstream only degrades the gateway: without one, only its routes fail (503
        // or 504 in the error format), and every replica sees the same upstream. Taking the
        // gateways out of the ingress would turn one service's outage into the whole API's.
        {
            let auth = auth.clone();
            readiness.add_degrading_check("auth", move || {
                let auth = auth.clone();
                async move { auth.check().await }
            });
            let users = users.clone();
            readiness.add_degrading_check("user", move || {
                let users = users.clone();
                async move { users.check().await }
            });
            let media = media.clone();
            readiness.add_degrading_check("media", move || {
                let media = media.clone();
                async move { media.check().await }
            });
        }
        let jwks = Arc::new(JwksCache::new(auth.clone(), &settings.tokens));
        let state = AppState {
            verifier: Arc::new(TokenVerifier::new(jwks.clone(), &settings.tokens)),
            auth,
            users,
            media,
            links: MediaLinks::new(&settings.public_url),
            max_upload_bytes: settings.uploads.max_bytes,
            jwks,
            trust_forwarded_for: settings.http.trust_forwarded_for,
        };
        let router = routes::router(state, &settings.http, &settings.uploads);

        let host = ServiceHost::start(&settings.runtime, readiness).await?;
        let listener = bind(settings.http_addr, "the HTTP port").await?;
        let http_addr = listener.local_addr()?;
        host.lifecycle()
            .spawn("http", move |stop| serve_http(listener, router, stop));
        tracing::info!(%http_addr, ops_addr = %host.ops_addr(), "gateway listening");
        Ok(Self { host, http_addr })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    pub fn ops_addr(&self) -> SocketAddr {
        self.host.ops_addr()
    }

    /// Serves until `signal`, then drains (see `platform_runtime::Lifecycle`).
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        self.host.run_until(signal).await
    }
}
