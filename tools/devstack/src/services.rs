//! The service crates the native run links, and how it loads, migrates and starts each: the
//! one place in devstack that names a service's crate. Everything else about a service (its
//! ports, databases, callees) comes from its manifest (`services/NAME/service.toml`).
//!
//! A new service adds its crate to this package's `Cargo.toml`, its line to [`SERVICES`] and
//! its module of three functions below (`just new-service` does all three).

use std::future::Future;
use std::pin::Pin;

use futures::future::BoxFuture;
use platform_config::{ConfigError, Env};
use platform_runtime::{CancellationToken, ServiceSettings as _};

/// A built service serving until its stop token is cancelled.
pub type Running = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// A built service, ready to serve once given its stop token.
pub type Serve = Box<dyn FnOnce(CancellationToken) -> Running + Send>;

/// What devstack can do with one service crate.
pub struct Service {
    /// The service's name, as its manifest and binary give it.
    pub name: &'static str,
    /// Loads its settings exactly as its binary's `main` does (the `env-vars` tool).
    pub load: fn(&Env) -> Result<(), ConfigError>,
    /// Applies its migrations to the databases its settings name (none for a service
    /// without a database).
    pub migrate: fn(Env) -> BoxFuture<'static, anyhow::Result<()>>,
    /// Builds it (every listener bound) from its settings.
    pub start: fn(Env) -> BoxFuture<'static, anyhow::Result<Serve>>,
}

/// One [`Service`] from its name and the module of its three functions.
macro_rules! service {
    ($name:literal, $module:ident) => {
        Service {
            name: $name,
            load: $module::load,
            migrate: |env| Box::pin($module::migrate(env)),
            start: |env| Box::pin($module::start(env)),
        }
    };
}

/// Every service crate, one line each.
pub const SERVICES: &[Service] = &[
    service!("auth", auth),
    service!("gateway", gateway),
    service!("media", media),
    service!("media-worker", media_worker),
    service!("user", user),
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

/// A built app's `run_until` as a [`Serve`].
fn serve<F>(run_until: impl FnOnce(CancellationToken) -> F + Send + 'static) -> Serve
where
    F: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    Box::new(move |stop| -> Running { Box::pin(run_until(stop)) })
}

// The services that talk to Kafka accept a missing KAFKA_BROKERS in `from_env` (tests and
// devstack start an embedded broker), but `App::build` refuses to start without it: `load`
// asks the same question it does. Crates are named from the root (`::media_worker`), since a
// module here may have the crate's name.

mod auth {
    use super::*;

    pub fn load(env: &Env) -> Result<(), ConfigError> {
        ::auth_service::Settings::from_env(env)?
            .kafka
            .bootstrap_servers()
            .map(drop)
    }

    pub async fn migrate(env: Env) -> anyhow::Result<()> {
        let settings = ::auth_service::Settings::from_env(&env)?;
        ::auth_service::data::migrate(&settings.database_url, &settings.database).await
    }

    pub async fn start(env: Env) -> anyhow::Result<Serve> {
        let app = ::auth_service::App::build(::auth_service::Settings::from_env(&env)?).await?;
        Ok(serve(move |stop| app.run_until(stop.cancelled_owned())))
    }
}

mod gateway {
    use super::*;

    pub fn load(env: &Env) -> Result<(), ConfigError> {
        ::gateway_service::Settings::from_env(env).map(drop)
    }

    pub async fn migrate(_env: Env) -> anyhow::Result<()> {
        Ok(())
    }

    pub async fn start(env: Env) -> anyhow::Result<Serve> {
        let settings = ::gateway_service::Settings::from_env(&env)?;
        let app = ::gateway_service::App::build(settings).await?;
        tracing::info!(
            "the gateway is up; try: curl http://127.0.0.1:{}/openapi.json",
            app.http_addr().port()
        );
        Ok(serve(move |stop| app.run_until(stop.cancelled_owned())))
    }
}

mod media {
    use super::*;

    pub fn load(env: &Env) -> Result<(), ConfigError> {
        ::media_service::Settings::from_env(env)?
            .kafka
            .bootstrap_servers()
            .map(drop)
    }

    pub async fn migrate(env: Env) -> anyhow::Result<()> {
        let settings = ::media_service::Settings::from_env(&env)?;
        ::media_service::data::migrate(&settings.database_url, &settings.database).await
    }

    pub async fn start(env: Env) -> anyhow::Result<Serve> {
        let app = ::media_service::App::build(::media_service::Settings::from_env(&env)?).await?;
        Ok(serve(move |stop| app.run_until(stop.cancelled_owned())))
    }
}

mod media_worker {
    use super::*;

    pub fn load(env: &Env) -> Result<(), ConfigError> {
        ::media_worker::Settings::from_env(env)?
            .kafka
            .bootstrap_servers()
            .map(drop)
    }

    pub async fn migrate(_env: Env) -> anyhow::Result<()> {
        Ok(())
    }

    pub async fn start(env: Env) -> anyhow::Result<Serve> {
        let app = ::media_worker::App::build(::media_worker::Settings::from_env(&env)?).await?;
        Ok(serve(move |stop| app.run_until(stop.cancelled_owned())))
    }
}

mod user {
    use super::*;

    pub fn load(env: &Env) -> Result<(), ConfigError> {
        ::user_service::Settings::from_env(env)?
            .kafka
            .bootstrap_servers()
            .map(drop)
    }

    pub async fn migrate(env: Env) -> anyhow::Result<()> {
        let settings = ::user_service::Settings::from_env(&env)?;
        ::user_service::data::Shards::connect(&settings.shards, &settings.database)?
            .migrate_all()
            .await
    }

    pub async fn start(env: Env) -> anyhow::Result<Serve> {
        let app = ::user_service::App::build(::user_service::Settings::from_env(&env)?).await?;
        Ok(serve(move |stop| app.run_until(stop.cancelled_owned())))
    }
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
