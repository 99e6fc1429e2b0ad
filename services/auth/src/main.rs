//! The auth service binary: `auth` serves; `auth migrate` applies the database migrations
//! and exits (the Kubernetes migration Job and the compose one-shot run this).

use auth_service::{App, Settings, data};
use platform_config::Env;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let env = Env::from_process();
    let settings = Settings::from_env(&env).unwrap_or_else(|e| {
        eprintln!("auth: configuration error: {e}");
        std::process::exit(2);
    });
    let _telemetry = platform_telemetry::init(&settings.telemetry)?;
    match std::env::args().nth(1).as_deref() {
        Some("migrate") => data::migrate(&settings.database_url, &settings.database).await,
        None => {
            let app = App::build(settings).await?;
            app.run_until(platform_runtime::shutdown_signal()).await
        }
        Some(other) => {
            eprintln!("auth: unknown command {other:?}; usage: auth [migrate]");
            std::process::exit(2);
        }
    }
}
