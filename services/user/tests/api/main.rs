//! The user service's integration tests: two regional shards (two fresh databases), a real
//! Redis namespace, the service on port 0, and a stub media service where avatars need one.

mod avatars;
mod events;
mod faults;
mod helpers;
mod ops;
mod profiles;
