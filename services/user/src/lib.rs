//! The user service: profiles, each stored in its owner's home region (one Postgres
//! database per region), read through a Redis cache. It speaks gRPC (`user.v1.UserService`).
//!
//! Layers, each depending only on the next: [`routes`] → [`controller`] → [`service`] → [`data`].

mod app;
pub mod avatars;
mod cli;
pub mod config;
pub mod controller;
pub mod data;
mod error;
pub mod parts;
pub mod routes;
pub mod service;

pub use app::App;
pub use config::Settings;
pub use error::UserError;
