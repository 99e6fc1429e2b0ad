//! `/v1/auth/*` and `/.well-known/jwks.json`: sign-up, sign-in, sessions, public keys.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use platform_proto::auth::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::data::jwks::JwkSet;
use crate::error::Problem;
use crate::extract::{ClientAddress, ValidJson};
use crate::{ApiError, AppState};

/// A new account. The constraints are auth's (see its `service/validation.rs`); the
/// gateway checks them against this schema first, and schemathesis in CI checks both agree.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    /// Trimmed and lowercased before it is stored or compared (the one normalisation of
    /// emails; nothing else, such as dots or `+tags`, is rewritten).
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    /// Trimmed; it must contain a visible character.
    #[schema(min_length = 1, max_length = 64)]
    pub display_name: String,
    /// A configured region (`AUTH_REGIONS`); the user's data lives there.
    pub region: String,
}

/// An email and a password. Any mismatch is the same 401, so nothing is checked here beyond
/// the bounds of what could ever match.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(max_length = 128)]
    pub password: String,
}

/// A refresh token, as a token pair gave it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    #[schema(max_length = 64)]
    pub refresh_token: String,
}

/// Token answers must not be kept by any cache (RFC 6749 §5.1).
const NO_STORE: [(header::HeaderName, &str); 1] = [(header::CACHE_CONTROL, "no-store")];

/// A new session: a short-lived access token and a single-use refresh token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub user_id: String,
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u32,
}

impl From<pb::TokenPair> for TokenResponse {
    fn from(pair: pb::TokenPair) -> Self {
        Self {
            user_id: pair.user_id,
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            token_type: "Bearer",
            expires_in: pair.expires_in,
        }
    }
}

/// Register a new account and open its first session.
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", operation_id = "register", request_body = RegisterBody,
    responses(
        (status = 201, body = TokenResponse, headers(("cache-control" = String, description = "`no-store`: tokens are never cached")),
            links(
                ("login" = (operation_id = "login", request_body = json!({"email": "$request.body#/email", "password": "$request.body#/password"}))),
                ("profile" = (operation_id = "get_user", parameters(("id" = "$response.body#/user_id")))),
                ("refresh" = (operation_id = "refresh", request_body = json!({"refresh_token": "$response.body#/refresh_token"}))),
            )),
        (status = 400, description = "invalid input; `errors` names each bad field", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the email is taken", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn register(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<RegisterBody>,
) -> Result<impl IntoResponse, ApiError> {
    let response = state
        .auth
        .register(pb::RegisterRequest {
            email: body.email,
            password: body.password,
            display_name: body.display_name,
            region: body.region,
        })
        .await?;
    let tokens = response
        .tokens
        .ok_or_else(|| ApiError::internal("auth registered without returning tokens"))?;
    Ok((
        StatusCode::CREATED,
        NO_STORE,
        Json(TokenResponse::from(tokens)),
    ))
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", operation_id = "login", request_body = LoginBody,
    responses(
        (status = 200, body = TokenResponse, headers(("cache-control" = String, description = "`no-store`: tokens are never cached")),
            links(
                ("refresh" = (operation_id = "refresh", request_body = json!({"refresh_token": "$response.body#/refresh_token"}))),
                ("logout" = (operation_id = "logout", request_body = json!({"refresh_token": "$response.body#/refresh_token"}))),
                ("profile" = (operation_id = "get_user", parameters(("id" = "$response.body#/user_id")))),
            )),
        (status = 401, description = "unknown email or wrong password (one answer for both)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many failed attempts (`TOO_MANY_ATTEMPTS`) or requests (`RATE_LIMITED`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("retry-after" = u32, description = "seconds to wait before retrying"))),
    ))]
#[tracing::instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(client_address): ClientAddress,
    ValidJson(body): ValidJson<LoginBody>,
) -> Result<impl IntoResponse, ApiError> {
    let pair = state
        .auth
        .login(pb::LoginRequest {
            email: body.email,
            password: body.password,
            client_address,
        })
        .await?;
    Ok((NO_STORE, Json(TokenResponse::from(pair))))
}

/// Exchange a refresh token for a new pair; the presented token is spent.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", operation_id = "refresh", request_body = RefreshBody,
    responses(
        (status = 200, body = TokenResponse, headers(("cache-control" = String, description = "`no-store`: tokens are never cached")),
            links(
                ("refresh" = (operation_id = "refresh", request_body = json!({"refresh_token": "$response.body#/refresh_token"}))),
                ("logout" = (operation_id = "logout", request_body = json!({"refresh_token": "$response.body#/refresh_token"}))),
            )),
        (status = 401, description = "invalid, expired, spent or revoked; reusing a spent token revokes its session", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<RefreshBody>,
) -> Result<impl IntoResponse, ApiError> {
    let pair = state.auth.refresh(body.refresh_token).await?;
    Ok((NO_STORE, Json(TokenResponse::from(pair))))
}

/// End the session a refresh token belongs to.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", operation_id = "logout", request_body = RefreshBody,
    responses((status = 204, description = "the session is over (also for unknown tokens)")))]
#[tracing::instrument(skip_all)]
pub async fn logout(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<RefreshBody>,
) -> Result<StatusCode, ApiError> {
    state.auth.logout(body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The public keys that verify access tokens: the current and the previous one.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth", operation_id = "jwks",
    responses((status = 200, body = JwkSet, headers(("cache-control" = String, description = "`public, max-age=300`")))))]
pub async fn jwks(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let document = state.jwks.document().await?;
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(document.as_ref().clone()),
    ))
}
