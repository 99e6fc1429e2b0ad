//! Builds the user service from its settings: a pool per regional shard, the cache, the gRPC
//! server and the ops listener, all bound before `build` returns.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use platform_kafka::EventConsumer;
use platform_runtime::{Lifecycle, Readiness, ops, serve_http};

/// The topic whose events create profiles.
const USER_REGISTERED: &str = "user.registered";
use tokio::net::TcpListener;

use crate::controller::RegistrationHandler;
use crate::data::{ProfileCache, ProfileStore, Shards};
use crate::service::Profiles;
use crate::{Settings, routes};

pub struct App {
    lifecycle: Lifecycle,
    grpc_addr: SocketAddr,
    ops_addr: SocketAddr,
}

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let readiness = Readiness::new();
        let shards = Shards::connect(&settings.shards, &settings.database)?;
        // A region that is down fails only its own users, so it degrades readiness but does
        // not take the replica out of rotation; same for Redis, which reads bypass.
        for (region, pool) in shards.iter() {
            let pool = pool.clone();
            readiness.add_degrading_check(format!("postgres:{region}"), move || {
                platform_postgres::check(pool.clone())
            });
        }
        let redis = platform_redis::connect(&settings.redis)?;
        {
            let redis = redis.clone();
            readiness.add_degrading_check("redis", move || platform_redis::check(redis.clone()));
        }
        let profiles = Arc::new(Profiles::new(
            ProfileStore::new(shards),
            ProfileCache::new(redis, &settings.redis.key_prefix, &settings.cache),
        ));

        let consumer = EventConsumer::new(&settings.kafka, &[USER_REGISTERED])
            .context("creating the Kafka consumer")?;
        let registrations = Arc::new(RegistrationHandler::new(profiles.clone()));

        let grpc_listener = TcpListener::bind(settings.grpc.addr)
            .await
            .with_context(|| format!("binding the gRPC port {}", settings.grpc.addr))?;
        let ops_listener = TcpListener::bind(settings.runtime.ops.addr)
            .await
            .with_context(|| format!("binding the ops port {}", settings.runtime.ops.addr))?;
        let grpc_addr = grpc_listener.local_addr()?;
        let ops_addr = ops_listener.local_addr()?;

        let lifecycle = Lifecycle::new(
            readiness.clone(),
            settings.runtime.shutdown_delay,
            settings.runtime.drain_deadline,
        );
        let server = routes::grpc_server(profiles);
        let grpc_settings = settings.grpc.clone();
        let grpc_readiness = readiness.clone();
        lifecycle.spawn("grpc", move |stop| async move {
            server
                .serve(grpc_listener, grpc_settings, grpc_readiness, stop)
                .await
        });
        lifecycle.spawn("user.registered consumer", move |stop| {
            consumer.run(registrations, stop)
        });
        lifecycle.spawn("ops", move |stop| {
            serve_http(ops_listener, ops::router(readiness), stop)
        });
        tracing::info!(%grpc_addr, %ops_addr, "user service listening");
        Ok(Self {
            lifecycle,
            grpc_addr,
            ops_addr,
        })
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
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
