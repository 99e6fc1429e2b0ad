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

/// Missing fields are read as empty so that validation can name every bad field at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(default)]
#[derive(Default)]
pub struct RegisterBody {
    pub email: String,
    pub password: String,
    pub display_name: String,
    /// A configured region, e.g. `eu` or `us`; the user's data lives there.
    pub region: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshBody {
    pub refresh_token: String,
}

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
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", request_body = RegisterBody,
    responses(
        (status = 201, body = TokenResponse),
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
    Ok((StatusCode::CREATED, Json(TokenResponse::from(tokens))))
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginBody,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "unknown email or wrong password (one answer for both)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many failed attempts; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(client_address): ClientAddress,
    ValidJson(body): ValidJson<LoginBody>,
) -> Result<Json<TokenResponse>, ApiError> {
    let pair = state
        .auth
        .login(pb::LoginRequest {
            email: body.email,
            password: body.password,
            client_address,
        })
        .await?;
    Ok(Json(pair.into()))
}

/// Exchange a refresh token for a new pair; the presented token is spent.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "invalid, expired, spent or revoked; reusing a spent token revokes its session", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<RefreshBody>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(state.auth.refresh(body.refresh_token).await?.into()))
}

/// End the session a refresh token belongs to.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshBody,
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
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, body = JwkSet)))]
pub async fn jwks(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let document = state.jwks.document().await?;
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(document.as_ref().clone()),
    ))
}
