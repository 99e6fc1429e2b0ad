//! Business rules of the media service, in plain Rust types: no gRPC, no SQL.

mod library;
mod model;
mod uploads;
pub mod validation;

pub use library::{ContentStream, MediaLibrary};
pub use model::{Applied, Media, MediaStatus, NewMedia, Outcome, Variant};
pub use uploads::{NewUpload, Uploads};
