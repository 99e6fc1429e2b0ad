//! The media service: uploaded images. It speaks gRPC (`media.v1.MediaService`): uploads
//! stream into object storage (checked against their declared type and a size limit, never
//! held whole in memory), each media is recorded in Postgres as `pending` and announced on
//! `media.uploaded` through the transactional outbox; the worker's `media.processed` makes it
//! `ready` with its variants, or `failed`. Bytes stream back out with `GetContent`.
//!
//! Layers, each depending only on the next: [`routes`] → [`controller`] → [`service`] → [`data`].
//!
//! Metrics (besides the gRPC, Kafka and runtime ones of the platform libraries):
//! - `media_uploads_total{outcome}`: uploads by `stored`, `invalid`, `too_large`,
//!   `interrupted` or `failed`.
//! - `media_upload_bytes_total`: bytes of stored uploads.
//! - `media_processed_events_total{result}`: `media.processed` events by `ready`, `failed`,
//!   `duplicate` (applied before) or `ignored` (the media already had a verdict).

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
pub use error::MediaError;
