//! One way to serve gRPC and one way to call it.
//!
//! - [`GrpcServer`]: a tonic server with the health service registered, a server-side
//!   timeout, and a layer that picks up the caller's trace context and request id and
//!   records metrics per method.
//! - [`connect`]: a client channel with a connect timeout, a per-call deadline sent as
//!   `grpc-timeout` and enforced locally, the caller's context propagated, and calls balanced
//!   over every address the service's DNS name resolves to (a Kubernetes headless Service).
//!
//! ```no_run
//! use platform_grpc::{connect, GrpcClientSettings};
//! use platform_config::Env;
//!
//! # async fn run() -> anyhow::Result<()> {
//! let settings = GrpcClientSettings::from_env(&Env::from_process(), "AUTH_GRPC", "http://127.0.0.1:50051")?;
//! let channel = connect(&settings)?;
//! // let client = AuthServiceClient::new(channel);
//! # Ok(()) }
//! ```

mod client;
mod errors;
mod outbound;
mod retry;
mod server;
mod settings;

pub use client::{GrpcChannel, connect, health_check};
pub use errors::{Answer, FieldViolation, ServiceError, into_status};
pub use outbound::Outbound;
pub use retry::{retry_idempotent, retry_idempotent_unary};
pub use server::{GrpcServer, ServerContextLayer};
pub use settings::{GrpcClientSettings, GrpcServerSettings};
pub use tonic_health::ServingStatus;
