//! gRPC controllers: the generated trait impls, which validate, call the service and map.

mod auth;
mod validation;

pub use auth::AuthController;
