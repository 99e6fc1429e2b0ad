//! `/openapi.json`: the API description, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi as _;

use crate::openapi::ApiDoc;

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
