//! Extractors: JSON bodies and path parameters held to the public contract, the
//! authenticated caller, and the client's address.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequest, FromRequestParts, Path, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::contract::RequestSchemas;
use crate::error::FieldError;
use crate::service::{Principal, TokenVerifier};
use crate::{ApiError, AppState, rate_limit};

/// A JSON body that keeps the public contract: `Content-Type: application/json` (else 415),
/// within the body limit (else 413), well-formed (else 400 `MALFORMED_JSON`), and valid
/// against its schema in the OpenAPI document (else 400 `INVALID_INPUT` with every bad
/// field named). `T`'s schema name is the one the document lists (see [`crate::contract`]).
/// Any router state that hands out the compiled schemas can use it.
pub struct ValidJson<T>(pub T);

impl<T, S> FromRequest<S> for ValidJson<T>
where
    T: DeserializeOwned + utoipa::ToSchema,
    Arc<RequestSchemas>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::unsupported_media_type(
                "send the body as JSON, with Content-Type: application/json",
            ));
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::from_status(rejection.status()))?;
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "MALFORMED_JSON",
                format!("the body is not valid JSON: {e}"),
            )
        })?;
        let schema = T::name();
        match Arc::<RequestSchemas>::from_ref(state).violations(&schema, &value) {
            Some(errors) if errors.is_empty() => {}
            Some(errors) => return Err(ApiError::invalid_input(errors)),
            None => {
                return Err(ApiError::internal(format!(
                    "{schema} is no request body of the OpenAPI document"
                )));
            }
        }
        // The schema allows exactly what `T` reads, so this fails only if they disagree.
        serde_json::from_value(value)
            .map(Self)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "INVALID_INPUT", e.to_string()))
    }
}

/// `application/json`, or another `application/…+json` type, with any parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// `axum::extract::Path`, except that a parameter holding a control character (a `%00` in
/// the URL, say) is a 400 naming it, before anything upstream sees it.
pub struct ValidPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ValidPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let invalid =
            |detail: String| ApiError::new(StatusCode::BAD_REQUEST, "INVALID_INPUT", detail);
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|rejection| invalid(rejection.body_text()))?;
        let errors: Vec<FieldError> = raw
            .iter()
            .filter(|(_, value)| value.chars().any(char::is_control))
            .map(|(name, _)| FieldError {
                field: name.to_owned(),
                detail: "must not contain control characters".into(),
            })
            .collect();
        if !errors.is_empty() {
            return Err(ApiError::invalid_input(errors));
        }
        let Path(value) = Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| invalid(rejection.body_text()))?;
        Ok(Self(value))
    }
}

/// The token of `Authorization: Bearer <token>`, if the request has one.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim())
}

/// The caller, from a valid `Authorization: Bearer <access token>`; otherwise 401.
pub struct AuthUser(pub Principal);

impl<S> FromRequestParts<S> for AuthUser
where
    Arc<TokenVerifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(principal) = rate_limit::verified(&parts.extensions) {
            return Ok(Self(principal));
        }
        let token = bearer_token(&parts.headers).ok_or_else(|| {
            ApiError::unauthorized("an Authorization: Bearer access token is required")
        })?;
        let verifier = Arc::<TokenVerifier>::from_ref(state);
        Ok(Self(verifier.verify(token).await?))
    }
}

/// The client's address (see [`rate_limit::client_address`]), used for login throttling:
/// as the rate limiter settled it, or worked out here where no limiter ran.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(settled) = parts.extensions.get::<Self>() {
            return Ok(settled.clone());
        }
        Ok(Self(rate_limit::client_address(
            &parts.headers,
            &parts.extensions,
            state.trusted_proxy_hops,
        )))
    }
}
