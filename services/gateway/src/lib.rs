//! The gateway: the platform's only public entry. It serves the HTTP/JSON API of DESIGN §5,
//! verifies access tokens locally against the auth service's JWKS, applies limits, and turns
//! upstream gRPC answers into HTTP (RFC 9457 problem+json for every error).
//!
//! Layers: [`routes`] → [`controller`] → [`service`] (token verification) → [`data`] (gRPC
//! clients, the JWKS cache). Calls that are pure proxies go from controller to data. A part
//! that can be removed whole (the media routes) is one module with its own layers, state and
//! settings, listed in [`parts::PARTS`].

mod app;
mod cli;
pub mod config;
pub mod contract;
pub mod controller;
pub mod data;
mod error;
pub mod extract;
pub mod media;
mod middleware;
pub mod openapi;
pub mod parts;
pub mod rate_limit;
pub mod routes;
pub mod service;
mod state;

pub use app::App;
pub use config::Settings;
pub use error::{ApiError, FieldError, Problem};
pub use state::AppState;
