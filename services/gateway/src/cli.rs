//! The gateway as its binary sees it (`platform_runtime::Service`): its settings and how it
//! starts.

use platform_config::{ConfigError, Env};
use platform_runtime::{Running, RuntimeSettings, Service};
use platform_telemetry::TelemetrySettings;

use crate::{App, Settings};

impl Service for App {
    const NAME: &'static str = "gateway";
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
}
