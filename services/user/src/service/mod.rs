//! Business rules of the user service, in plain Rust types: no gRPC, no SQL.

mod model;
mod profiles;
pub mod validation;

pub use model::{Avatar, AvatarVariant, NewProfile, Profile};
pub use profiles::{ProfilePatch, Profiles};
