//! Builds the user service from its settings: a pool per regional shard, the cache, the
//! media service's client, the `user.registered` consumer, the gRPC server and the ops
//! listener, all bound before `build` returns.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use platform_kafka::{Event as _, EventConsumer};
use platform_proto::events::v1::UserRegistered;
use platform_runtime::{Readiness, ServiceHost};

use crate::controller::RegistrationHandler;
use crate::data::{MediaClient, ProfileCache, ProfileStore, Shards};
use crate::service::{Avatars, Profiles};
use crate::{Settings, routes};

pub struct App {
    host: ServiceHost,
    grpc_addr: SocketAddr,
}

impl App {
    /// The topics this service consumes: their dead letters are counted, and listed and
    /// re-driven by `user dead-letters`.
    pub const CONSUMED_TOPICS: &'static [&'static str] = &[UserRegistered::TOPIC];

    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let readiness = Readiness::new();
        let shards = Shards::connect(&settings.shards, &settings.database)?;
        let pools_for_metrics: Vec<(String, sqlx::PgPool)> = shards
            .iter()
            .map(|(region, pool)| (region.to_owned(), pool.clone()))
            .collect();
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
        // Only picking an avatar asks the media service, so it is not a readiness check:
        // while it is down every other call still works.
        let avatars = Arc::new(Avatars::new(
            MediaClient::new(platform_grpc::connect(&settings.media)?),
            profiles.clone(),
        ));
        let consumer = EventConsumer::<UserRegistered>::new(&settings.kafka)
            .context("creating the Kafka consumer")?;
        let registrations = Arc::new(RegistrationHandler::new(profiles.clone()));

        let host = ServiceHost::start(&settings.runtime, readiness).await?;
        let grpc_addr = routes::grpc_server(profiles, avatars)
            .start(settings.grpc, &host)
            .await?;
        host.lifecycle()
            .spawn("user.registered consumer", move |stop| {
                consumer.run(registrations, stop)
            });
        let dead_letters =
            platform_kafka::DeadLetterGauge::new(&settings.kafka, Self::CONSUMED_TOPICS);
        host.lifecycle()
            .spawn("dead-letter gauge", move |stop| dead_letters.run(stop));
        for (region, pool) in pools_for_metrics {
            host.lifecycle()
                .spawn("postgres pool metrics", move |stop| {
                    platform_postgres::report_pool_metrics(pool, format!("user_{region}"), stop)
                });
        }
        tracing::info!(%grpc_addr, ops_addr = %host.ops_addr(), "user service listening");
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
