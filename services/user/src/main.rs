//! The user service binary: `user` serves; `user migrate` applies the migrations to every
//! regional shard and exits.

use platform_config::Env;
use user_service::{App, Settings, data};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env(&Env::from_process()).unwrap_or_else(|e| {
        eprintln!("user: configuration error: {e}");
        std::process::exit(2);
    });
    let _telemetry = platform_telemetry::init(&settings.telemetry)?;
    match std::env::args().nth(1).as_deref() {
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
            eprintln!("user: unknown command {other:?}; usage: user [migrate]");
            std::process::exit(2);
        }
    }
}
