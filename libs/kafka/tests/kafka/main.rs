//! Integration tests of platform-kafka against the embedded broker and a real Postgres.

mod consumer;
mod dead_letters;
mod helpers;
mod outbox;
mod producer;
mod schema;
