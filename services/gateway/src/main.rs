//! The gateway binary: `gateway` serves until SIGTERM; `gateway health` probes a running
//! gateway's ops listener and exits 0 or 1 (the container healthcheck).
//!
//! The shell is `platform_runtime::run`; what this service gives it is in `cli.rs`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform_runtime::run::<gateway_service::App>().await
}
