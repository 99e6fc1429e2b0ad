//! Controllers: the gRPC service and the `media.processed` consumer, each validating its
//! input, calling the service and mapping the result.

mod events;
mod media;

pub use events::ProcessedHandler;
pub use media::MediaController;
