//! The gateway's own rules: which access tokens are accepted.

mod tokens;

pub use tokens::{Principal, TokenError, TokenVerifier};
