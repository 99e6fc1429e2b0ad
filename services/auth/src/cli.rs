//! The auth service as its binary sees it (`platform_runtime::Service`): how it starts and how
//! it migrates. Its settings are `config.rs`'s (`platform_runtime::ServiceSettings`).

use platform_kafka::KafkaSettings;
use platform_runtime::{Running, Service};

use crate::{App, Settings, data};

impl Service for App {
    const NAME: &'static str = "auth";
    const SERVING_NEEDS: &'static [&'static str] = &[KafkaSettings::BROKERS];
    type Settings = Settings;

    fn migrate(settings: &Settings) -> Option<impl Future<Output = anyhow::Result<()>> + Send> {
        Some(data::migrate(&settings.database_url, &settings.database))
    }

    async fn start(settings: Settings) -> anyhow::Result<Running<Self>> {
        Self::build(settings).await
    }
}
