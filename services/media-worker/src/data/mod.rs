//! What the worker reads and writes: originals and variants in object storage, and the
//! `media.processed` events it publishes.

mod events;
mod objects;

pub use events::{MEDIA_PROCESSED, MediaRef, Outcome, ProcessedEvents};
pub use objects::{MediaObjects, Original, StoredVariant, variant_key};
