//! What the worker reads and writes: originals and variants in object storage, and the
//! `media.processed` events it publishes.

mod events;
mod objects;

pub use events::{MediaRef, Outcome, ProcessedEvents, encode};
pub use objects::{MediaObjects, Original, StoredVariant, result_key, variant_key};
