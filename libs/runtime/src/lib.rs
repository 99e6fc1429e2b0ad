//! Process lifecycle shared by every service: shutdown signals, draining with a deadline,
//! readiness, the ops listener (`/healthz`, `/readyz`, `/metrics`), HTTP metrics and the
//! process's own memory.
//!
//! A service's `App::build` binds its listeners and spawns its servers on a [`Lifecycle`];
//! `main` then calls [`Lifecycle::run_until`] with [`shutdown_signal`].
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
//! Every binary also answers `<service> health` ([`health_command`]), the container
//! healthcheck of images that have no shell or curl.

mod cli;
mod health;
mod host;
mod lifecycle;
pub mod metrics;
pub mod ops;
pub mod process;
mod readiness;
mod settings;

pub use cli::{HEALTH_COMMAND, exit_on_config_error};
pub use health::{PROBE_DEADLINE, health_command, probe_health};
pub use host::{ServiceHost, bind};
pub use lifecycle::{Lifecycle, serve_http, shutdown_signal};
pub use readiness::{CheckFuture, Readiness};
pub use settings::{OpsSettings, RuntimeSettings};
pub use tokio_util::sync::CancellationToken;
