//! The gateway's integration tests: the real gateway and the real auth, user, media and
//! media-worker services on port 0, each test with its own Postgres databases, Redis
//! namespace, Kafka broker and object store; stubs only where a test needs a peer to
//! misbehave.

mod auth_flow;
mod binary;
mod contract;
mod deadlines;
mod docs_page;
mod helpers;
mod http_behaviour;
mod media;
// Shared with the benches (`benches/common/mod.rs`): each uses a part of it.
#[allow(dead_code)]
mod platform;
mod propagation;
mod rate_limits;
mod tokens;
mod uploads;
mod users;
