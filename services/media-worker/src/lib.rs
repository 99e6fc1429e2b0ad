//! The media worker: consumes `media.uploaded`, turns each original into resized JPEG
//! variants on a bounded pool of its own threads, stores them, and publishes
//! `media.processed` (ready, or failed with a reason).
//!
//! Layers, each depending only on the next: [`controller`] (the Kafka handler) →
//! [`service`] (the job) → [`data`] (object storage and the publisher). The CPU-bound core
//! they drive:
//!
//! - [`limits`]: how large an upload and its decoded pixels may be.
//! - [`pipeline`]: sniff, check, decode, orient, resize and encode one image.
//! - [`pool`]: the bounded CPU pool that runs the pipeline off the async runtime.

mod app;
mod cli;
pub mod config;
pub mod controller;
pub mod data;
mod error;
mod jpeg;
pub mod limits;
pub mod pipeline;
pub mod pool;
pub mod service;
mod variants;

pub use app::App;
pub use config::Settings;
pub use error::{ProcessError, WorkerError};
pub use limits::ImageLimits;
pub use pipeline::{EncodedVariant, Processed, process};
pub use pool::CpuPool;
pub use variants::{DEFAULT_VARIANTS, VariantSpec};
