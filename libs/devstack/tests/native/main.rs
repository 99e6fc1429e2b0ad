//! The platform as users run it: the `devstack` binary, one process or one per service, started,
//! SIGKILLed and restarted by the test. These tests use the usual ports (8080, 9100, 50051…,
//! 9092), so nextest runs them one at a time (`.config/nextest.toml`), and databases and Redis
//! keys of their own, so they never touch a developer's data.

mod crash;
mod harness;
mod processes;
