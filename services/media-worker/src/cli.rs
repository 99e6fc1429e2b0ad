//! The media worker as its binary sees it (`platform_runtime::Service`): how it starts, and its
//! `dead-letters` command for the topics it consumes. Its settings are `config.rs`'s
//! (`platform_runtime::ServiceSettings`).

use platform_kafka::Event as _;
use platform_kafka::KafkaSettings;
use platform_kafka::dead_letters::{ConsumedTopics, dead_letters_command};
use platform_proto::events::v1::MediaUploaded;
use platform_runtime::{Command, Running, Service};

use crate::{App, Settings};

impl Service for App {
    const NAME: &'static str = "media-worker";
    const COMMANDS: &'static [Command] = &[dead_letters_command::<Self>()];
    const SERVING_NEEDS: &'static [&'static str] = &[KafkaSettings::BROKERS];
    type Settings = Settings;

    async fn start(settings: Settings) -> anyhow::Result<Running<Self>> {
        Self::build(settings).await
    }
}

/// Their dead letters are counted, and listed and re-driven by `media-worker dead-letters`.
impl ConsumedTopics for App {
    const CONSUMED_TOPICS: &'static [&'static str] = &[MediaUploaded::TOPIC];
}
