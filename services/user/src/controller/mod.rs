//! gRPC controllers: the generated trait impls, which validate, call the service and map.

mod events;
mod users;

pub use events::RegistrationHandler;
pub use users::{SetAvatar, UserController};
