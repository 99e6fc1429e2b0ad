//! The media worker, tested through its public API with images made in memory: the pipeline
//! and the pool on their own, then the running worker against an embedded Kafka-protocol
//! broker and a store in a temporary directory.

mod faults;
mod helpers;
mod images;
mod jobs;
mod ops;
mod pipeline;
mod pool;
