//! Data access of the user service: the regional shards, the profiles in them, the cache.

mod cache;
mod profiles;
mod shards;
mod single_flight;

pub use cache::{Cached, ProfileCache};
pub use profiles::{NewProfile, Profile, ProfileStore};
pub use shards::{MIGRATOR, ShardError, Shards};
pub use single_flight::SingleFlight;
