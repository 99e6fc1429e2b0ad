//! The route table and the middleware stack. No logic here.
//!
//! Every public route is listed once, in [`api`], with `utoipa-axum`'s `routes!`: the same
//! list builds the router and the OpenAPI document, so a route cannot exist undocumented.

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::HttpSettings;
use crate::config::Settings;
use crate::controller::{auth, docs, not_found, users};
use crate::{AppState, middleware, openapi, rate_limit};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The public API: every route with its handler and its OpenAPI description. Handlers of one
/// path share a `routes!`. The routes of the gateway's parts come with the parts.
pub fn api() -> OpenApiRouter<AppState> {
    // Small JSON bodies, answered within the request timeout (see `limited`).
    OpenApiRouter::new()
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::jwks))
        .routes(routes!(users::me, users::update_me))
        .routes(routes!(users::get))
}

/// `routes` held to the request timeout and the JSON body limit.
pub fn limited<S>(routes: OpenApiRouter<S>, http: &HttpSettings) -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    routes.layer(
        ServiceBuilder::new()
            .layer(TimeoutLayer::with_status_code(
                StatusCode::GATEWAY_TIMEOUT,
                http.request_timeout,
            ))
            .layer(RequestBodyLimitLayer::new(http.max_body_bytes)),
    )
}

/// The whole gateway: the API, the routes of its parts (each with its own state and limits,
/// such as the media routes), its `document` at `/openapi.json`, the reference pages, and the
/// middleware stack.
pub fn router(
    state: AppState,
    settings: &Settings,
    document: &utoipa::openapi::OpenApi,
    parts: impl IntoIterator<Item = OpenApiRouter<AppState>>,
) -> Router {
    let http = &settings.http;
    let api = parts
        .into_iter()
        .fold(limited(api(), http), OpenApiRouter::merge);
    let (routes, _) = api.split_for_parts();
    routes
        .route("/openapi.json", openapi::serve(document))
        .merge(docs::reference())
        .fallback(not_found)
        // Inside the routing, so the limiter sees which route (and so which class) it is.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate_limit::limit,
        ))
        .with_state(state)
        // Outermost first: request id → trace → context and problem mapping → metrics →
        // load shedding → CORS → rate limit → (per route group: timeout → body limit) → the
        // handler.
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
