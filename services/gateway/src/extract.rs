//! Extractors: JSON bodies whose rejections are problems, the authenticated caller, and the
//! client's address.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::service::Principal;
use crate::{ApiError, AppState};

/// `axum::Json`, except that a rejection is a problem+json naming what was wrong.
pub struct ValidJson<T>(pub T);

impl<S, T> FromRequest<S> for ValidJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => {
                use axum::extract::rejection::JsonRejection;
                let (status, code) = match &rejection {
                    // Well-formed JSON of the wrong shape (a missing or unknown field, a wrong
                    // type): axum says 422, the API contract says 400.
                    JsonRejection::JsonDataError(_) => (StatusCode::BAD_REQUEST, "INVALID_INPUT"),
                    JsonRejection::JsonSyntaxError(_) => {
                        (StatusCode::BAD_REQUEST, "MALFORMED_JSON")
                    }
                    other => match other.status() {
                        StatusCode::PAYLOAD_TOO_LARGE => (other.status(), "PAYLOAD_TOO_LARGE"),
                        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                            (other.status(), "UNSUPPORTED_MEDIA_TYPE")
                        }
                        status => (status, "MALFORMED_JSON"),
                    },
                };
                Err(ApiError::new(status, code, rejection.body_text()))
            }
        }
    }
}

/// The caller, from a valid `Authorization: Bearer <access token>`; otherwise 401.
pub struct AuthUser(pub Principal);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or_else(|| {
                ApiError::unauthorized("an Authorization: Bearer access token is required")
            })?;
        Ok(Self(state.verifier.verify(token.trim()).await?))
    }
}

/// The client's network address, used for login throttling.
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.trust_forwarded_for {
            // The last hop is the one our own proxy appended; earlier ones are client claims.
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty());
            if let Some(address) = forwarded {
                return Ok(Self(address));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        Ok(Self(peer.unwrap_or_default()))
    }
}
