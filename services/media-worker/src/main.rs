//! The media worker binary: `media-worker` consumes `media.uploaded` and publishes
//! `media.processed`; `media-worker health` probes a running worker's ops listener and exits
//! 0 or 1 (the container healthcheck); `media-worker dead-letters list|redrive|discard` shows
//! and re-drives the dead letters of `media.uploaded` (`platform_kafka::dead_letters`).
//!
//! The shell is `platform_runtime::run`; what this service gives it is in `cli.rs`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform_runtime::run::<media_worker::App>().await
}
