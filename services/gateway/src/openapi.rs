//! The OpenAPI 3.1 document, assembled from the `#[utoipa::path]` annotations.

use crate::controller::auth;
use crate::data::jwks::{Jwk, JwkSet};
use crate::error::{FieldError, Problem};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Platform API", description = "The public HTTP API of the platform (DESIGN §5). Errors are RFC 9457 problem+json."),
    paths(auth::register, auth::login, auth::refresh, auth::logout, auth::jwks),
    components(schemas(Problem, FieldError, auth::TokenResponse, JwkSet, Jwk)),
    tags((name = "auth", description = "Accounts, sessions and token keys")),
)]
pub struct ApiDoc;
