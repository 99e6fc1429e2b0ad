//! Data access of the auth service: Postgres repositories and the Redis login throttle.

mod credentials;
pub mod events;
mod migrations;
mod refresh_tokens;
mod throttle;
mod waiters;

pub use credentials::{Credentials, NewCredential, StoredCredential};
pub use migrations::{MIGRATOR, migrate};
pub use refresh_tokens::{RefreshTokens, Rotation};
pub use throttle::{Attempt, LoginThrottle, Outcome};
