//! Data access of the user service: the regional shards, the profiles in them and the cache. The types they hold are the service's (`service::model`).

mod cache;
mod profiles;
mod shards;
mod single_flight;

pub use cache::{Cached, ProfileCache};
pub use profiles::ProfileStore;
pub use shards::{MIGRATOR, ShardError, Shards};
pub use single_flight::SingleFlight;
