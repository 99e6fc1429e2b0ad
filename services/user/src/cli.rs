//! The user service as its binary sees it (`platform_runtime::Service`): how it migrates
//! (every regional shard), how it starts, and its `dead-letters` command for the topics it
//! consumes. Its settings are `config.rs`'s (`platform_runtime::ServiceSettings`).

use platform_kafka::Event as _;
use platform_kafka::KafkaSettings;
use platform_kafka::dead_letters::{ConsumedTopics, dead_letters_command};
use platform_proto::events::v1::UserRegistered;
use platform_runtime::{Command, Running, Service};

use crate::{App, Settings, data};

impl Service for App {
    const NAME: &'static str = "user";
    const COMMANDS: &'static [Command] = &[dead_letters_command::<Self>()];
    const SERVING_NEEDS: &'static [&'static str] = &[KafkaSettings::BROKERS];
    type Settings = Settings;

    fn migrate(settings: &Settings) -> Option<impl Future<Output = anyhow::Result<()>> + Send> {
        Some(async {
            data::Shards::connect(&settings.shards, &settings.database)?
                .migrate_all()
                .await
        })
    }

    async fn start(settings: Settings) -> anyhow::Result<Running<Self>> {
        Self::build(settings).await
    }
}

/// Their dead letters are counted, and listed and re-driven by `user dead-letters`.
impl ConsumedTopics for App {
    const CONSUMED_TOPICS: &'static [&'static str] = &[UserRegistered::TOPIC];
}
