//! gRPC controllers: the generated trait impls, which validate, call the service and map.

mod auth;

pub use auth::AuthController;
