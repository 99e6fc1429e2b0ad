//! The media service (being built).
