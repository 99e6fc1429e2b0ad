//! The media worker binary: consumes `media.uploaded`, publishes `media.processed`.

use media_worker::{App, Settings};
use platform_config::Env;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env(&Env::from_process()).unwrap_or_else(|e| {
        eprintln!("media-worker: configuration error: {e}");
        std::process::exit(2);
    });
    let _telemetry = platform_telemetry::init(&settings.telemetry)?;
    let app = App::build(settings).await?;
    app.run_until(platform_runtime::shutdown_signal()).await
}
