//! Builds the auth service from its settings: pools, keys, the gRPC server and the ops
//! listener, all bound before `build` returns so tests can use port 0.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use platform_kafka::{EventProducer, OutboxRelay};
use platform_runtime::{Lifecycle, Readiness, ops, serve_http};
use tokio::net::TcpListener;

use crate::service::{Accounts, Passwords, SigningKeys, TokenIssuer};
use crate::{Settings, data, routes};

/// A running auth service.
pub struct App {
    lifecycle: Lifecycle,
    grpc_addr: SocketAddr,
    ops_addr: SocketAddr,
}

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let readiness = Readiness::new();
        let db = platform_postgres::connect(&settings.database_url, &settings.database)?;
        let redis = platform_redis::connect(&settings.redis)?;
        {
            let db = db.clone();
            readiness.add_check("postgres", move || platform_postgres::check(db.clone()));
            let redis = redis.clone();
            readiness.add_check("redis", move || platform_redis::check(redis.clone()));
        }

        let relay = OutboxRelay::new(
            db.clone(),
            EventProducer::new(&settings.kafka).context("creating the Kafka producer")?,
            &settings.kafka,
        );
        let keys = SigningKeys::load(&settings.tokens).context("loading the signing keys")?;
        let accounts = Arc::new(Accounts::new(
            data::Credentials::new(db.clone(), relay.clone()),
            data::RefreshTokens::new(db),
            data::LoginThrottle::new(redis, &settings.redis.key_prefix, settings.throttle.clone()),
            Passwords::new(settings.hash_concurrency)?,
            TokenIssuer::new(keys, &settings.tokens),
        ));

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
        let server = routes::grpc_server(accounts, settings.regions.clone());
        let grpc_settings = settings.grpc.clone();
        let grpc_readiness = readiness.clone();
        lifecycle.spawn("grpc", move |stop| async move {
            server
                .serve(grpc_listener, grpc_settings, grpc_readiness, stop)
                .await
        });
        lifecycle.spawn("outbox-relay", move |stop| relay.run(stop));
        lifecycle.spawn("ops", move |stop| {
            serve_http(ops_listener, ops::router(readiness), stop)
        });
        tracing::info!(%grpc_addr, %ops_addr, "auth service listening");
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

    /// Serves until `signal`, then drains (see `platform_runtime::Lifecycle`).
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        self.lifecycle.run_until(signal).await
    }
}
