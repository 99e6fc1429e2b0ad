//! The route table and the middleware stack. No logic here.

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::routing::{get, post, put};
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::{HttpSettings, UploadSettings};
use crate::controller::{auth, docs, media, not_found, users};
use crate::{AppState, middleware};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState, http: &HttpSettings, uploads: &UploadSettings) -> Router {
    // Everything but uploads: small JSON bodies, answered within the request timeout.
    let api = Router::new()
        .route("/v1/auth/register", post(auth::register))
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/refresh", post(auth::refresh))
        .route("/v1/auth/logout", post(auth::logout))
        .route("/v1/users/me", get(users::me).patch(users::update_me))
        .route("/v1/users/me/avatar", put(users::set_avatar))
        .route("/v1/users/{id}", get(users::get))
        .route("/v1/media/{id}", get(media::get))
        .route("/v1/media/{id}/{variant}", get(media::content))
        .route("/.well-known/jwks.json", get(auth::jwks))
        .route("/openapi.json", get(docs::openapi))
        .merge(docs::reference())
        .layer(
            ServiceBuilder::new()
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::GATEWAY_TIMEOUT,
                    http.request_timeout,
                ))
                .layer(RequestBodyLimitLayer::new(http.max_body_bytes)),
        );
    // Uploads stream large bodies: the `ImageUpload` extractor enforces their own limit as
    // they arrive, and they get the upload deadline.
    let upload = Router::new().route("/v1/media", post(media::upload)).layer(
        TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, uploads.timeout),
    );
    api.merge(upload)
        .fallback(not_found)
        .with_state(state)
        // Outermost first: request id → trace → context and problem mapping → metrics →
        // load shedding → CORS → (per route group: timeout → body limit) → the handler.
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(TraceLayer::new_for_http().make_span_with(middleware::http_span))
                .layer(axum::middleware::from_fn(middleware::request_context))
                .layer(axum::middleware::from_fn(
                    platform_runtime::metrics::track_http,
                ))
                .layer(HandleErrorLayer::new(middleware::overloaded))
                .load_shed()
                .layer(GlobalConcurrencyLimitLayer::new(
                    http.max_concurrent_requests,
                ))
                .layer(cors(&http.cors_allowed_origins)),
        )
}

fn cors(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods(tower_http::cors::Any)
        .allow_headers(tower_http::cors::Any)
        .expose_headers([REQUEST_ID]);
    if origins.iter().any(|o| o == "*") {
        layer.allow_origin(AllowOrigin::any())
    } else {
        let list: Vec<HeaderValue> = origins.iter().filter_map(|o| o.parse().ok()).collect();
        layer.allow_origin(list)
    }
}
