//! What the `devstack` and `env-vars` binaries share: the services' manifests
//! ([`manifest`]) and the one list of the service crates devstack links ([`services`]).

pub mod manifest;
pub mod services;
