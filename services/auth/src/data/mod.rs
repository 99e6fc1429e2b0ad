//! Data access of the auth service: Postgres repositories and the Redis login throttle.

mod credentials;
mod pools;
mod refresh_tokens;
mod throttle;

pub use credentials::{Credentials, NewCredential, StoredCredential};
pub use pools::{MIGRATOR, check_postgres, check_redis, connect_postgres, connect_redis, migrate};
pub use refresh_tokens::{RefreshTokens, Rotation};
pub use throttle::LoginThrottle;
