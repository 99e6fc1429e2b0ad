//! Business rules of the user service, in plain Rust types: no gRPC, no SQL.

mod profiles;
mod user_id;

pub use profiles::{ProfilePatch, Profiles};
pub use user_id::home_region;
