//! Per-client rate limits at the edge (DESIGN §5): every request counts against its client's
//! quota for its class of route, in Redis, so every gateway replica enforces one limit.
//!
//! - The client is the user of a valid bearer token (verified once here; the handler's
//!   `AuthUser` reuses it), or else the client address (see [`client_address`]).
//! - The class follows the route: `auth` (`/v1/auth/*`), `uploads` (`POST /v1/media`),
//!   `reads` (every other `GET`, `HEAD`, `OPTIONS`), `writes` (the rest). Quotas come from
//!   `GATEWAY_RATE_LIMIT_*` (see `config`).
//! - Beyond the quota: 429 problem+json `RATE_LIMITED` with `Retry-After`; every answer
//!   carries `RateLimit-Policy` and `RateLimit` (IETF httpapi draft; `platform_ratelimit`).
//! - Without Redis each replica counts on its own (`platform_ratelimit`'s fallback), so an
//!   outage loosens the limit N-fold for N replicas instead of refusing everyone.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Extensions, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use platform_ratelimit::RateLimiter;

use crate::extract::{ClientAddress, bearer_token};
use crate::service::Principal;
use crate::{ApiError, AppState, Settings};

/// The classes of route, each with its own quota.
pub const AUTH: &str = "auth";
pub const READS: &str = "reads";
pub const WRITES: &str = "writes";
pub const UPLOADS: &str = "uploads";

/// The limiter with the configured quota of each class, counting in the gateway's Redis.
pub fn limiter(settings: &Settings) -> anyhow::Result<RateLimiter> {
    let quotas = &settings.rate_limits;
    Ok(
        RateLimiter::builder(platform_redis::connect(&settings.redis)?)
            .key_prefix(&settings.redis.key_prefix)
            .class(AUTH, quotas.auth)
            .class(READS, quotas.reads)
            .class(WRITES, quotas.writes)
            .class(UPLOADS, quotas.uploads)
            .deadline(quotas.timeout)
            .build()?,
    )
}

/// The class of a request, from its method and its route (the path as routed, so
/// `/v1/media/{id}`, or the raw path for an unknown one).
pub fn class(method: &Method, route: &str) -> &'static str {
    if route.starts_with("/v1/auth/") {
        AUTH
    } else if method == Method::POST && route == "/v1/media" {
        UPLOADS
    } else if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        READS
    } else {
        WRITES
    }
}

/// The middleware: counts the request, refuses it past the quota, and tells the client
/// where it stands on every answer.
pub async fn limit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let address = client_address(
        request.headers(),
        request.extensions(),
        state.trusted_proxy_hops,
    );
    let principal = match bearer_token(request.headers()) {
        Some(token) => state.verifier.verify(token).await.ok(),
        None => None,
    };
    let client = match &principal {
        Some(principal) => format!("user:{}", principal.user_id),
        None => format!("addr:{address}"),
    };
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().to_owned(),
        |p| p.as_str().to_owned(),
    );
    let class = class(request.method(), &route);
    let decision = match state.limiter.check(class, &client).await {
        Ok(decision) => decision,
        Err(unknown) => return ApiError::internal(unknown.to_string()).into_response(),
    };
    request.extensions_mut().insert(ClientAddress(address));
    if let Some(principal) = principal {
        request.extensions_mut().insert(principal);
    }
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        let mut refusal = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            format!("too many {class} requests from this client; retry after Retry-After seconds"),
        );
        if let Some(after) = decision.retry_after {
            refusal = refusal.with_retry_after(after);
        }
        refusal.into_response()
    };
    response.headers_mut().extend(decision.headers());
    response
}

/// The client's address as the gateway should believe it.
///
/// Each proxy in front appends the address it saw to `X-Forwarded-For`, so with `hops`
/// trusted proxies the client is the entry `hops` from the right: entries further left are
/// whatever the client wrote. With no trusted proxy, or no usable entry, it is the TCP peer.
pub fn client_address(headers: &HeaderMap, extensions: &Extensions, hops: usize) -> String {
    let peer = || {
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .unwrap_or_default()
    };
    if hops == 0 {
        return peer();
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    // Fewer entries than proxies: the leftmost is the nearest to the client we have.
    let index = entries.len().saturating_sub(hops);
    entries
        .get(index)
        .and_then(|entry| entry.parse::<IpAddr>().ok())
        .map_or_else(peer, |ip| ip.to_string())
}

/// A principal [`limit`] already verified, so the handler does not verify twice.
pub fn verified(extensions: &Extensions) -> Option<Principal> {
    extensions.get::<Principal>().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forwarded(value: &str, hops: usize) -> String {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 4000))));
        client_address(&headers, &extensions, hops)
    }

    #[test]
    fn the_client_is_as_many_entries_from_the_right_as_there_are_trusted_proxies() {
        // The client wrote 1.1.1.1; the ingress appended what it saw.
        assert_eq!(forwarded("1.1.1.1, 203.0.113.7", 1), "203.0.113.7");
        // A cloud load balancer, then the ingress.
        assert_eq!(
            forwarded("1.1.1.1, 203.0.113.7, 10.0.0.3", 2),
            "203.0.113.7"
        );
        // No trusted proxy: the header is the client's own claim.
        assert_eq!(forwarded("1.1.1.1", 0), "10.0.0.9");
        // Garbage where the proxy's entry should be: the peer.
        assert_eq!(forwarded("1.1.1.1, not-an-ip", 1), "10.0.0.9");
        // Fewer entries than proxies: the leftmost.
        assert_eq!(forwarded("203.0.113.7", 2), "203.0.113.7");
    }

    #[test]
    fn routes_fall_into_their_class() {
        assert_eq!(class(&Method::POST, "/v1/auth/login"), AUTH);
        assert_eq!(class(&Method::POST, "/v1/media"), UPLOADS);
        assert_eq!(class(&Method::GET, "/v1/media/{id}"), READS);
        assert_eq!(class(&Method::PATCH, "/v1/users/me"), WRITES);
        assert_eq!(class(&Method::DELETE, "/nowhere"), WRITES);
    }
}
