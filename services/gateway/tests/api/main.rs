//! The gateway's integration tests: the real gateway and the real auth service on port 0,
//! each test with its own Postgres database and Redis namespace.

mod auth_flow;
mod binary;
mod deadlines;
mod helpers;
mod http_behaviour;
mod propagation;
mod tokens;
mod users;
