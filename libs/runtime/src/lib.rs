//! Process lifecycle shared by every service: shutdown signals, draining with a deadline,
//! readiness, the ops listener (`/healthz`, `/readyz`, `/metrics`), HTTP metrics and the
//! process's own memory.
//!
//! A service's `App::build` binds its listeners and spawns its servers on a [`Lifecycle`]
//! (its [`ServiceHost`]'s) and returns the service [`Running`]; serving is then
//! [`Lifecycle::run_until`] with [`shutdown_signal`].
//!
//! ```no_run
//! use platform_runtime::{shutdown_signal, Lifecycle, Readiness};
//! use std::time::Duration;
//!
//! # async fn run() -> anyhow::Result<()> {
//! let readiness = Readiness::new();
//! let lifecycle = Lifecycle::new(readiness.clone(), Duration::ZERO, Duration::from_secs(20));
//! lifecycle.spawn("worker", |stop| async move { stop.cancelled().await; Ok(()) });
//! lifecycle.run_until(shutdown_signal()).await
//! # }
//! ```
//!
//! Every binary is the same shell, [`run`], around what its service says of itself once
//! ([`Service`], and [`ServiceSettings`] for its settings): no argument serves, `migrate`
//! migrates (services with a database), `health` ([`health_command`]) is the container
//! healthcheck of images that have no shell or curl, and a service may add commands
//! ([`Command`]: `dead-letters`). Its `main.rs` is one call,
//! `platform_runtime::run::<auth_service::App>().await`.

mod cli;
mod health;
mod host;
mod lifecycle;
pub mod metrics;
pub mod ops;
pub mod process;
mod readiness;
mod running;
mod service;
mod settings;

pub use cli::{HEALTH_COMMAND, MIGRATE_COMMAND, exit_on_config_error, run};
pub use health::{PROBE_DEADLINE, health_command, probe_health};
pub use host::{ServiceHost, bind};
pub use lifecycle::{Lifecycle, serve_http, shutdown_signal};
pub use readiness::{CheckFuture, Readiness, check_on};
pub use running::Running;
pub use service::{Command, Service, ServiceSettings};
pub use settings::{OpsSettings, RuntimeSettings};
pub use tokio_util::sync::CancellationToken;
