//! The user service binary: `user` serves; `user migrate` applies the migrations to every
//! regional shard and exits; `user health` probes a running replica's ops listener and exits
//! 0 or 1 (the container healthcheck); `user dead-letters list|redrive|discard` shows and
//! re-drives the dead letters of `user.registered` (`platform_kafka::dead_letters`).

use platform_config::Env;
use user_service::{App, Settings, data};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args().nth(1);
    if command.as_deref() == Some(platform_kafka::DEAD_LETTERS_COMMAND) {
        // Before the service's settings: it needs only the Kafka ones, not a database.
        let args = std::env::args().skip(2);
        let status = platform_kafka::dead_letters::command("user", App::CONSUMED_TOPICS, args);
        std::process::exit(status.await);
    }
    let settings = Settings::from_env(&Env::from_process())
        .unwrap_or_else(|e| platform_runtime::exit_on_config_error("user", command.as_deref(), &e));
    if command.as_deref() == Some(platform_runtime::HEALTH_COMMAND) {
        std::process::exit(platform_runtime::health_command("user", &settings.runtime.ops).await);
    }
    let _telemetry = platform_telemetry::init(&settings.telemetry)?;
    match command.as_deref() {
        Some("migrate") => {
            data::Shards::connect(&settings.shards, &settings.database)?
                .migrate_all()
                .await
        }
        None => {
            let app = App::build(settings).await?;
            app.run_until(platform_runtime::shutdown_signal()).await
        }
        Some(other) => {
            eprintln!("user: unknown command {other:?}; usage: user [migrate|health|dead-letters]");
            std::process::exit(2);
        }
    }
}
