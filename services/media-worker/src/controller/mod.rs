//! Kafka controllers: each turns an event into a service call, the way a gRPC controller
//! turns a request into one.

mod uploads;

pub use uploads::UploadHandler;
