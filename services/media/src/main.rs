//! The media service binary: `media` serves; `media migrate` applies the database
//! migrations and exits (the Kubernetes migration Job and the compose one-shot run this);
//! `media health` probes a running replica's ops listener and exits 0 or 1 (the container
//! healthcheck); `media dead-letters list|redrive|discard` shows and re-drives the dead letters
//! of `media.processed` (`platform_kafka::dead_letters`).

use media_service::{App, Settings, data};
use platform_config::Env;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args().nth(1);
    if command.as_deref() == Some(platform_kafka::DEAD_LETTERS_COMMAND) {
        // Before the service's settings: it needs only the Kafka ones, not a database.
        let args = std::env::args().skip(2);
        let status = platform_kafka::dead_letters::command("media", App::CONSUMED_TOPICS, args);
        std::process::exit(status.await);
    }
    let settings = Settings::from_env(&Env::from_process()).unwrap_or_else(|e| {
        platform_runtime::exit_on_config_error("media", command.as_deref(), &e)
    });
    if command.as_deref() == Some(platform_runtime::HEALTH_COMMAND) {
        std::process::exit(platform_runtime::health_command("media", &settings.runtime.ops).await);
    }
    let _telemetry = platform_telemetry::init(&settings.telemetry)?;
    match command.as_deref() {
        Some("migrate") => data::migrate(&settings.database_url, &settings.database).await,
        None => {
            let app = App::build(settings).await?;
            app.run_until(platform_runtime::shutdown_signal()).await
        }
        Some(other) => {
            eprintln!(
                "media: unknown command {other:?}; usage: media [migrate|health|dead-letters]"
            );
            std::process::exit(2);
        }
    }
}
