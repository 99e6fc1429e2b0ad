//! The CPU-bound core of a job: one uploaded image in, resized JPEG variants out, within
//! limits. It is slow by nature (tens to hundreds of milliseconds of a core), so jobs run it
//! on the pool from [`start_pool`], never on the async runtime.
//!
//! - [`ImageLimits`]: how large an upload and its decoded pixels may be.
//! - [`process`]: sniff the format, check the header, decode, orient and render each variant.
//! - [`VariantSpec`], [`DEFAULT_VARIANTS`], [`EncodedVariant`]: the published sizes, and how
//!   one is resized and encoded.
//!
//! Dependencies inside point one way: the pipeline uses the variants, the limits and the
//! JPEG check; none of them uses the pipeline.

mod jpeg;
mod limits;
mod pipeline;
mod variants;

use platform_cpu_pool::CpuPool;

pub use limits::ImageLimits;
pub use pipeline::{Processed, process};
pub use variants::{DEFAULT_VARIANTS, EncodedVariant, VariantSpec};

/// Jobs on the pool, running or queued. The `MediaWorkerSaturated` alert and the events
/// dashboard read it.
const IN_FLIGHT_GAUGE: &str = "media_worker_pool_in_flight";

/// Starts the pool images are processed on: `threads` threads (`MEDIA_WORKER_THREADS`), and
/// room for as many jobs again to wait. A job beyond that waits, asynchronously, in
/// [`CpuPool::run`] before it is even queued: the Kafka consumer awaiting it stops pulling
/// messages while the pool is full, which is the backpressure that bounds the worker's
/// memory (see `crate::app`).
pub fn start_pool(threads: usize) -> std::io::Result<CpuPool> {
    CpuPool::builder("media-cpu")
        .threads(threads)
        .queue(threads)
        .in_flight_gauge(IN_FLIGHT_GAUGE)
        .build()
}
