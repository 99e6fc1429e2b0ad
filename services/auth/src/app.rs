//! Builds the auth service from its settings: pools, keys, the outbox relay, the gRPC server
//! and the ops listener, all bound before `build` returns so tests can use port 0.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use platform_kafka::{EventProducer, OutboxRelay};
use platform_runtime::{Readiness, Running, ServiceHost};

use crate::service::{Accounts, Passwords, SigningKeys, TokenIssuer};
use crate::{Settings, data, routes};

/// The auth service; [`App::build`] starts it.
pub struct App;

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<Running<Self>> {
        let readiness = Readiness::new();
        let db = platform_postgres::connect(&settings.database_url, &settings.database)?;
        let pool_for_metrics = db.clone();
        let redis = platform_redis::connect(&settings.redis)?;
        readiness.add_check("postgres", platform_postgres::readiness_check(&db));
        // Without Redis only logins fail (closed, see data/throttle.rs): registration,
        // refresh, logout and the key set still work, and every replica shares the one
        // Redis. So it degrades readiness, and a replica started during an outage serves.
        readiness.add_degrading_check("redis", platform_redis::readiness_check(&redis));

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
        platform_postgres::spawn_pool_metrics(host.lifecycle(), &pool_for_metrics, "auth");
        tracing::info!(%grpc_addr, ops_addr = %host.ops_addr(), "auth service listening");
        Ok(Running::new(host, Self).with_grpc_addr(grpc_addr))
    }
}
