//! `/docs`: an interactive reference (Swagger UI) that reads the gateway's `/openapi.json`
//! (served by `openapi::serve`). `GET /` sends a browser to the reference.
//!
//! Swagger UI's files are compiled into the binary (`utoipa-swagger-ui`'s `vendored`
//! feature), so the pages load nothing from outside the gateway: no CDN, no web fonts, and
//! no validator badge from validator.swagger.io.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{Redirect, Response};
use axum::routing::get;
use utoipa_swagger_ui::{Config, SwaggerUi};

/// Where the reference lives; `/docs` itself redirects here.
const DOCS: &str = "/docs/";

/// The document the reference renders: the gateway's own `/openapi.json` (Swagger UI fetches
/// it; this router does not serve a copy).
const DOCUMENT_URL: &str = "/openapi.json";

/// Swagger UI's scripts, styles and images are its own files; it fetches the document from
/// the same origin and draws its icons from `data:` URLs and inline styles.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// `/docs/` (Swagger UI, `/docs` redirecting to it) and `GET /` redirecting to it.
pub fn reference<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let ui = SwaggerUi::new("/docs").config(
        Config::from(DOCUMENT_URL)
            // Otherwise Swagger UI shows a badge fetched from validator.swagger.io.
            .validator_url("none"),
    );
    Router::from(ui)
        // 307, not 308: `/` is the reference only for now, and a browser keeps a permanent
        // redirect for good.
        .route("/", get(|| async { Redirect::temporary(DOCS) }))
        .layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
