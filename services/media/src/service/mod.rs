//! Business rules of the media service, in plain Rust types: no gRPC, no SQL.

mod library;
mod media_id;
mod uploads;

pub use library::{ContentStream, MediaLibrary};
pub use media_id::parse_media_id;
pub use uploads::{NewUpload, Uploads};
