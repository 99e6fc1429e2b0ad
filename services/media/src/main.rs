//! The media service binary: `media` serves; `media migrate` applies the database
//! migrations and exits (the Kubernetes migration Job and the compose one-shot run this);
//! `media health` probes a running replica's ops listener and exits 0 or 1 (the container
//! healthcheck); `media dead-letters list|redrive|discard` shows and re-drives the dead letters
//! of `media.processed` (`platform_kafka::dead_letters`).
//!
//! The shell is `platform_runtime::run`; what this service gives it is in `cli.rs`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform_runtime::run::<media_service::App>().await
}
