//! The job, from an uploaded original to a published outcome, and the image processing it
//! runs on the CPU pool.

pub mod images;
mod jobs;

pub use jobs::{Jobs, MediaJob, ORIGINAL_MISSING};
