//! The media worker's pipeline and pool, driven through the public API with images made in
//! memory.

mod images;
mod pipeline;
mod pool;
