//! The media service binary: `media` serves; `media migrate` applies the database
//! migrations and exits (the Kubernetes migration Job and the compose one-shot run this).

use media_service::{App, Settings, data};
use platform_config::Env;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env(&Env::from_process()).unwrap_or_else(|e| {
        eprintln!("media: configuration error: {e}");
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
            eprintln!("media: unknown command {other:?}; usage: media [migrate]");
            std::process::exit(2);
        }
    }
}
