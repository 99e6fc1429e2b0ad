//! The auth service's integration tests, over gRPC against its own fresh database.

mod grpc;
mod helpers;
mod lifecycle;
mod redis_recorder;
mod throttle;
