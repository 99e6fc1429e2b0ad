//! The OpenAPI 3.1 document, assembled from the `#[utoipa::path]` annotations.

use crate::controller::{auth, media, users};
use crate::data::jwks::{Jwk, JwkSet};
use crate::error::{FieldError, Problem};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Platform API", description = "The public HTTP API of the platform (DESIGN §5). Errors are RFC 9457 problem+json."),
    paths(auth::register, auth::login, auth::refresh, auth::logout, auth::jwks, users::me, users::update_me, users::set_avatar, users::get, media::upload, media::get, media::content),
    modifiers(&BearerAuth),
    components(schemas(Problem, FieldError, auth::TokenResponse, JwkSet, Jwk, users::Profile, users::PublicProfile, users::ProfilePatch, users::Avatar, users::AvatarChoice, media::Media, media::MediaStatus, media::ImageVariant, media::UploadAccepted)),
    tags(
        (name = "auth", description = "Accounts, sessions and token keys"),
        (name = "users", description = "Profiles"),
        (name = "media", description = "Images: uploads, processing, and their bytes"),
    ),
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme the protected paths name.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
