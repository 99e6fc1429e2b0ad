//! The media worker, tested through its public API with images made in memory: the pipeline
//! on its own (the pool's tests are platform-cpu-pool's), then the running worker against an
//! embedded Kafka-protocol broker and a store in a temporary directory.

mod faults;
mod helpers;
mod images;
mod jobs;
mod ops;
mod pipeline;
