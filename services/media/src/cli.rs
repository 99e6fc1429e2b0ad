//! The media service as its binary sees it (`platform_runtime::Service`): its settings, how it
//! starts, how it migrates and its `dead-letters` command.

use platform_config::{ConfigError, Env};
use platform_runtime::{Command, Running, RuntimeSettings, Service};
use platform_telemetry::TelemetrySettings;

use crate::{App, Settings, data};

impl Service for App {
    const NAME: &'static str = "media";
    const COMMANDS: &'static [Command] = &[Command {
        name: platform_kafka::DEAD_LETTERS_COMMAND,
        run: |args| {
            Box::pin(platform_kafka::dead_letters::command(
                "media",
                App::CONSUMED_TOPICS,
                args,
            ))
        },
    }];
    type Settings = Settings;

    fn settings(env: &Env) -> Result<Settings, ConfigError> {
        Settings::from_env(env)
    }

    fn runtime(settings: &Settings) -> &RuntimeSettings {
        &settings.runtime
    }

    fn telemetry(settings: &Settings) -> &TelemetrySettings {
        &settings.telemetry
    }

    async fn start(settings: Settings) -> anyhow::Result<Running<Self>> {
        Self::build(settings).await
    }

    fn migrate(settings: &Settings) -> Option<impl Future<Output = anyhow::Result<()>> + Send> {
        Some(data::migrate(&settings.database_url, &settings.database))
    }
}
