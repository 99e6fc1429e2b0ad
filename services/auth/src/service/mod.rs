//! Business rules of the auth service, in plain Rust types: no gRPC, no SQL.

mod accounts;
mod keys;
mod passwords;
mod tokens;
pub mod validation;

pub use accounts::{Accounts, Login, Registration, Session};
pub use keys::{PublicJwk, SigningKeys};
pub use passwords::Passwords;
pub use tokens::{RefreshToken, TokenIssuer};
