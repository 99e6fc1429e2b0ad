//! The gateway's data access: clients of upstream services and the JWKS cache.

mod auth;
pub mod jwks;
mod media;
mod users;

pub use auth::AuthClient;
pub use jwks::JwksCache;
pub use media::{Content, MediaClient, UploadError};
pub use users::UserClient;
