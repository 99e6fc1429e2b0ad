//! The service crates the native run links: the one place in devstack that names a service's
//! crate. How devstack loads, migrates and starts each is what its binary does, through the
//! crate's `platform_runtime::Service`; everything else about a service (its ports,
//! databases, callees) comes from its manifest (`services/NAME/service.toml`).
//!
//! A new service adds its crate to this package's `Cargo.toml` and its line to [`SERVICES`]
//! (`just new-service` does both).

use std::future::Future;
use std::pin::Pin;

use futures::future::BoxFuture;
use platform_config::{ConfigError, Env};
use platform_runtime::{CancellationToken, Service as ServiceCrate, ServiceSettings};

/// A built service serving until its stop token is cancelled.
pub type Running = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// A built service, ready to serve once given its stop token.
pub type Serve = Box<dyn FnOnce(CancellationToken) -> Running + Send>;

/// What devstack can do with one service crate.
pub struct Service {
    /// The service's name, as its manifest and binary give it.
    pub name: &'static str,
    /// Loads its settings exactly as its binary does before serving (the `env-vars` tool).
    pub load: fn(&Env) -> Result<(), ConfigError>,
    /// Applies its migrations to the databases its settings name (nothing for a service
    /// without a database).
    pub migrate: fn(Env) -> BoxFuture<'static, anyhow::Result<()>>,
    /// Builds it (every listener bound) from its settings.
    pub start: fn(Env) -> BoxFuture<'static, anyhow::Result<Serve>>,
}

/// Every service crate, one line each.
pub const SERVICES: &[Service] = &[
    service::<::auth_service::App>(),
    service::<::gateway_service::App>(),
    service::<::media_service::App>(),
    service::<::media_worker::App>(),
    service::<::user_service::App>(),
];

/// The service called `name`; an error naming this file when it has none (a manifest
/// without a crate here).
pub fn find(name: &str) -> anyhow::Result<&'static Service> {
    SERVICES.iter().find(|s| s.name == name).ok_or_else(|| {
        anyhow::anyhow!(
            "services/{name}/service.toml has no entry in tools/devstack/src/services.rs: add \
             its crate there"
        )
    })
}

/// The [`Service`] of the crate whose `platform_runtime::Service` is `S`.
const fn service<S: ServiceCrate>() -> Service {
    Service {
        name: S::NAME,
        load: load::<S>,
        migrate: migrate::<S>,
        start: start::<S>,
    }
}

fn load<S: ServiceCrate>(env: &Env) -> Result<(), ConfigError> {
    S::Settings::from_env(env)?;
    S::SERVING_NEEDS
        .iter()
        .try_for_each(|name| env.required::<String>(name).map(drop))
}

fn migrate<S: ServiceCrate>(env: Env) -> BoxFuture<'static, anyhow::Result<()>> {
    Box::pin(async move {
        let settings = S::Settings::from_env(&env)?;
        match S::migrate(&settings) {
            Some(migrating) => migrating.await,
            None => Ok(()),
        }
    })
}

fn start<S: ServiceCrate>(env: Env) -> BoxFuture<'static, anyhow::Result<Serve>> {
    Box::pin(async move {
        let running = S::start(S::Settings::from_env(&env)?).await?;
        let serve: Serve = Box::new(move |stop| -> Running {
            Box::pin(running.run_until(stop.cancelled_owned()))
        });
        Ok(serve)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    #[test]
    fn every_manifest_has_a_crate_and_every_crate_a_manifest() {
        let manifests: Vec<_> = Manifest::all()
            .unwrap()
            .into_iter()
            .map(|m| m.name)
            .collect();
        for manifest in &manifests {
            find(manifest).unwrap();
        }
        for service in SERVICES {
            assert!(
                manifests.iter().any(|m| m == service.name),
                "{} has no manifest",
                service.name
            );
        }
    }
}
