//! The gateway as its binary sees it (`platform_runtime::Service`): how it starts. Its
//! settings are `config.rs`'s (`platform_runtime::ServiceSettings`).

use platform_runtime::{Running, Service};

use crate::{App, Settings};

impl Service for App {
    const NAME: &'static str = "gateway";
    type Settings = Settings;

    async fn start(settings: Settings) -> anyhow::Result<Running<Self>> {
        Self::build(settings).await
    }
}
