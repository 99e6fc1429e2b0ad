//! The auth service binary: `auth` serves; `auth migrate` applies the database migrations
//! and exits (the Kubernetes migration Job and the compose one-shot run this); `auth health`
//! probes a running replica's ops listener and exits 0 or 1 (the container healthcheck).
//!
//! The shell is `platform_runtime::run`; what this service gives it is in `cli.rs`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform_runtime::run::<auth_service::App>().await
}
