//! The user service binary: `user` serves; `user migrate` applies the migrations to every
//! regional shard and exits; `user health` probes a running replica's ops listener and exits
//! 0 or 1 (the container healthcheck); `user dead-letters list|redrive|discard` shows and
//! re-drives the dead letters of `user.registered` (`platform_kafka::dead_letters`).
//!
//! The shell is `platform_runtime::run`; what this service gives it is in `cli.rs`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform_runtime::run::<user_service::App>().await
}
