//! The media worker: consumes `media.uploaded`, turns each original into resized JPEG
//! variants on a bounded pool of its own threads, stores them, and publishes
//! `media.processed` (ready, or failed with a reason).
//!
//! Layers, each depending only on the next: [`controller`] (the Kafka handler) →
//! [`service`] (the job, and the CPU-bound image processing it runs on a bounded pool in
//! [`service::images`]) → [`data`] (object storage and the publisher).

mod app;
mod cli;
pub mod config;
pub mod controller;
pub mod data;
mod error;
pub mod service;

pub use app::App;
pub use config::Settings;
pub use error::{ProcessError, WorkerError};
