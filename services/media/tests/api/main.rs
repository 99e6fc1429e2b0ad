//! The media service's integration tests: a fresh Postgres database, an embedded Kafka
//! broker and a temporary object store per test, the service on port 0.

mod backlog;
mod events;
mod faults;
mod helpers;
mod ops;
mod reads;
mod uploads;
