//! HTTP controllers: one module per resource; each handler extracts, calls, and maps.

pub mod auth;
pub mod docs;
pub mod images;
pub mod users;

use crate::ApiError;

/// The answer for any path the router does not know.
pub async fn not_found() -> ApiError {
    ApiError::not_found()
}
