//! The gateway binary: `gateway` serves until SIGTERM; `gateway health` probes a running
//! gateway's ops listener and exits 0 or 1 (the container healthcheck).

use gateway_service::{App, Settings};
use platform_config::Env;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args().nth(1);
    let settings = Settings::from_env(&Env::from_process()).unwrap_or_else(|e| {
        platform_runtime::exit_on_config_error("gateway", command.as_deref(), &e)
    });
    if command.as_deref() == Some(platform_runtime::HEALTH_COMMAND) {
        std::process::exit(
            platform_runtime::health_command("gateway", &settings.runtime.ops).await,
        );
    }
    if let Some(other) = command {
        eprintln!("gateway: unknown command {other:?}; usage: gateway [health]");
        std::process::exit(2);
    }
    let _telemetry = platform_telemetry::init(&settings.telemetry)?;
    let app = App::build(settings).await?;
    app.run_until(platform_runtime::shutdown_signal()).await
}
