//! The auth service: credentials, sessions (refresh-token families) and the keys that sign
//! access tokens. It speaks gRPC (`auth.v1.AuthService`) and owns its own database.
//!
//! Layers, each depending only on the next: [`routes`] → [`controller`] → [`service`] → [`data`].

mod app;
mod cli;
pub mod config;
pub mod controller;
pub mod data;
mod error;
pub mod routes;
pub mod service;

pub use app::App;
pub use config::Settings;
pub use error::{AuthError, FieldViolation};
