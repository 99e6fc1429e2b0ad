//! Business rules of the user service, in plain Rust types: no gRPC, no SQL.

mod avatars;
mod profiles;
mod user_id;

pub use avatars::Avatars;
pub use profiles::{ProfilePatch, Profiles};
pub use user_id::home_region;
