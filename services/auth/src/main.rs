//! The auth service binary: `auth` serves; `auth migrate` applies the database migrations
//! and exits (the Kubernetes migration Job and the compose one-shot run this); `auth health`
//! probes a running replica's ops listener and exits 0 or 1 (the container healthcheck).

use auth_service::{App, Settings, data};
use platform_config::Env;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args().nth(1);
    let settings = Settings::from_env(&Env::from_process())
        .unwrap_or_else(|e| platform_runtime::exit_on_config_error("auth", command.as_deref(), &e));
    if command.as_deref() == Some(platform_runtime::HEALTH_COMMAND) {
        std::process::exit(platform_runtime::health_command("auth", &settings.runtime.ops).await);
    }
    let _telemetry = platform_telemetry::init(&settings.telemetry)?;
    match command.as_deref() {
        Some("migrate") => data::migrate(&settings.database_url, &settings.database).await,
        None => {
            let app = App::build(settings).await?;
            app.run_until(platform_runtime::shutdown_signal()).await
        }
        Some(other) => {
            eprintln!("auth: unknown command {other:?}; usage: auth [migrate|health]");
            std::process::exit(2);
        }
    }
}
