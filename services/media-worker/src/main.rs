//! The media worker binary: `media-worker` consumes `media.uploaded` and publishes
//! `media.processed`; `media-worker health` probes a running worker's ops listener and exits
//! 0 or 1 (the container healthcheck); `media-worker dead-letters list|redrive|discard` shows
//! and re-drives the dead letters of `media.uploaded` (`platform_kafka::dead_letters`).

use media_worker::{App, Settings};
use platform_config::Env;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args().nth(1);
    if command.as_deref() == Some(platform_kafka::DEAD_LETTERS_COMMAND) {
        // Before the service's settings: it needs only the Kafka ones, not a database.
        let args = std::env::args().skip(2);
        let status =
            platform_kafka::dead_letters::command("media-worker", App::CONSUMED_TOPICS, args);
        std::process::exit(status.await);
    }
    let settings = Settings::from_env(&Env::from_process()).unwrap_or_else(|e| {
        platform_runtime::exit_on_config_error("media-worker", command.as_deref(), &e)
    });
    if command.as_deref() == Some(platform_runtime::HEALTH_COMMAND) {
        std::process::exit(
            platform_runtime::health_command("media-worker", &settings.runtime.ops).await,
        );
    }
    if let Some(other) = command {
        eprintln!(
            "media-worker: unknown command {other:?}; usage: media-worker [health|dead-letters]"
        );
        std::process::exit(2);
    }
    let _telemetry = platform_telemetry::init(&settings.telemetry)?;
    let app = App::build(settings).await?;
    app.run_until(platform_runtime::shutdown_signal()).await
}
