//! Builds the auth service from its settings: pools, keys, the outbox relay, the gRPC server
//! and the ops listener, all bound before `build` returns so tests can use port 0.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use platform_kafka::{EventProducer, OutboxRelay};
use platform_runtime::{Readiness, ServiceHost};

use crate::service::{Accounts, Passwords, SigningKeys, TokenIssuer};
use crate::{Settings, data, routes};

/// A running auth service.
pub struct App {
    host: ServiceHost,
    grpc_addr: SocketAddr,
}

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let readiness = Readiness::new();
        let db = platform_postgres::connect(&settings.database_url, &settings.database)?;
        let pool_for_metrics = db.clone();
        let redis = platform_redis::connect(&settings.redis)?;
        {
            let db = db.clone();
            readiness.add_check("postgres", move || platform_postgres::check(db.clone()));
            // Without Redis only logins fail (closed, see data/throttle.rs): registration,
            // refresh, logout and the key set still work, and every replica shares the one
            // Redis. So it degrades readiness, and a replica started during an outage serves.
            let redis = redis.clone();
            readiness.add_degrading_check("redis", move || platform_redis::check(redis.clone()));
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
            data::LoginThrottle::new(
                redis,
                &settings.redis.key_prefix,
                settings.throttle.clone(),
                // No login request runs longer: the server cancels it at this deadline.
                settings.grpc.request_timeout + Duration::from_secs(1),
            ),
            Passwords::new(settings.hash_concurrency)?,
            TokenIssuer::new(keys, &settings.tokens),
        ));

        let host = ServiceHost::start(&settings.runtime, readiness).await?;
        let grpc_addr = routes::grpc_server(accounts, settings.regions.clone())
            .start(settings.grpc, &host)
            .await?;
        host.lifecycle()
            .spawn("outbox-relay", move |stop| relay.run(stop));
        host.lifecycle()
            .spawn("postgres pool metrics", move |stop| {
                platform_postgres::report_pool_metrics(pool_for_metrics, "auth".to_owned(), stop)
            });
        tracing::info!(%grpc_addr, ops_addr = %host.ops_addr(), "auth service listening");
        Ok(Self { host, grpc_addr })
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
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
