//! Data access of the media service: the media and their variants in Postgres, the events
//! they announce, and where their bytes live in object storage.

pub mod events;
mod media;
mod migrations;
mod objects;

pub use media::MediaStore;
pub use migrations::{MIGRATOR, migrate};
pub use objects::original_key;
