//! The job: from an uploaded original to a published outcome.

mod jobs;

pub use jobs::{Jobs, MediaJob, ORIGINAL_MISSING};
