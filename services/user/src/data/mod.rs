//! Data access of the user service: the regional shards, the profiles in them, the cache,
//! and the media service's client. The types they hold are the service's (`service::model`).

mod cache;
mod media;
mod profiles;
mod shards;
mod single_flight;

pub use cache::{Cached, ProfileCache};
pub use media::{Media, MediaClient, MediaError};
pub use profiles::ProfileStore;
pub use shards::{MIGRATOR, ShardError, Shards};
pub use single_flight::SingleFlight;
