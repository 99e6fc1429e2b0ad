//! Builds the gateway from its settings and binds its listeners before returning.

use platform_runtime::{Readiness, Running, ServiceHost, bind, serve_http};

use crate::{AppState, Settings, openapi, parts, routes};

/// The gateway; [`App::build`] starts it.
pub struct App;

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<Running<Self>> {
        let readiness = Readiness::new();
        let document = openapi::document(&settings.regions);
        let state = AppState::new(&settings, &document)?;
        // Every upstream only degrades the gateway: without one, only its routes fail (503
        // or 504 in the error format), and every replica sees the same upstream. Taking the
        // gateways out of the ingress would turn one service's outage into the whole API's.
        {
            let auth = state.auth.clone();
            readiness.add_degrading_check("auth", move || {
                let auth = auth.clone();
                async move { auth.check().await }
            });
            let users = state.users.clone();
            readiness.add_degrading_check("user", move || {
                let users = users.clone();
                async move { users.check().await }
            });
        }
        let parts = parts::mount(&settings, &state, &readiness)?;
        let router = routes::router(state, &settings, &document, parts);

        let host = ServiceHost::start(&settings.runtime, readiness).await?;
        let listener = bind(settings.http_addr, "the HTTP port").await?;
        let http_addr = listener.local_addr()?;
        host.lifecycle()
            .spawn("http", move |stop| serve_http(listener, router, stop));
        tracing::info!(%http_addr, ops_addr = %host.ops_addr(), "gateway listening");
        Ok(Running::new(host, Self).with_http_addr(http_addr))
    }
}
