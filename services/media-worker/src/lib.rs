//! The media worker's CPU-bound core: turn one uploaded image into resized JPEG variants,
//! on a bounded pool of its own threads.
//!
//! - [`limits`]: how large an upload and its decoded pixels may be.
//! - [`pipeline`]: sniff, check, decode, orient, resize and encode one image.
//! - [`pool`]: the bounded CPU pool that runs the pipeline off the async runtime.
//!
//! The Kafka consumer and object storage that feed it are wired around this library.

mod error;
mod jpeg;
pub mod limits;
pub mod pipeline;
pub mod pool;
mod variants;

pub use error::ProcessError;
pub use limits::ImageLimits;
pub use pipeline::{EncodedVariant, Processed, process};
pub use pool::CpuPool;
pub use variants::{DEFAULT_VARIANTS, VariantSpec};
