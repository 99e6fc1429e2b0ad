//! Builds the user service from its settings: a pool per regional shard, the cache, the
//! parts (`crate::parts`: the avatars), the `user.registered` consumer, the gRPC server and the ops
//! listener, all bound before `build` returns.

use std::sync::Arc;

use anyhow::Context as _;
use platform_kafka::EventConsumer;
use platform_kafka::dead_letters::ConsumedTopics as _;
use platform_proto::events::v1::UserRegistered;
use platform_runtime::{Readiness, Running, ServiceHost};

use crate::controller::{RegistrationHandler, UserController};
use crate::data::{ProfileCache, ProfileStore, Shards};
use crate::service::Profiles;
use crate::{Settings, parts, routes};

/// The user service; [`App::build`] starts it.
pub struct App;

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<Running<Self>> {
        let readiness = Readiness::new();
        let shards = Shards::connect(&settings.shards, &settings.database)?;
        let pools_for_metrics: Vec<(String, sqlx::PgPool)> = shards
            .iter()
            .map(|(region, pool)| (region.to_owned(), pool.clone()))
            .collect();
        // A region that is down fails only its own users, so it degrades readiness but does
        // not take the replica out of rotation; same for Redis, which reads bypass.
        for (region, pool) in shards.iter() {
            readiness.add_degrading_check(
                format!("postgres:{region}"),
                platform_postgres::readiness_check(pool),
            );
        }
        let redis = platform_redis::connect(&settings.redis)?;
        readiness.add_degrading_check("redis", platform_redis::readiness_check(&redis));
        let profiles = Arc::new(Profiles::new(
            ProfileStore::new(shards),
            ProfileCache::new(redis, &settings.redis.key_prefix, &settings.cache),
        ));
        let users = UserController::new(profiles.clone());
        let users = parts::mount(users, &settings, &profiles)?;
        let consumer = EventConsumer::<UserRegistered>::new(&settings.kafka)
            .context("creating the Kafka consumer")?;
        let registrations = Arc::new(RegistrationHandler::new(profiles.clone()));

        let host = ServiceHost::start(&settings.runtime, readiness).await?;
        let grpc_addr = routes::grpc_server(users)
            .start(settings.grpc, &host)
            .await?;
        host.lifecycle()
            .spawn("user.registered consumer", move |stop| {
                consumer.run(registrations, stop)
            });
        platform_kafka::DeadLetterGauge::new(&settings.kafka, Self::CONSUMED_TOPICS)
            .spawn(host.lifecycle());
        for (region, pool) in &pools_for_metrics {
            platform_postgres::spawn_pool_metrics(host.lifecycle(), pool, format!("user_{region}"));
        }
        tracing::info!(%grpc_addr, ops_addr = %host.ops_addr(), "user service listening");
        Ok(Running::new(host, Self).with_grpc_addr(grpc_addr))
    }
}
