//! The gateway's data access: clients of upstream services and the JWKS cache.

mod auth;
pub mod jwks;
mod users;

pub use auth::AuthClient;
pub use jwks::JwksCache;
pub use users::UserClient;
