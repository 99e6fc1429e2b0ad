//! The media routes: image uploads, their processing state and bytes, and choosing one as
//! the caller's avatar. Everything the gateway does only for the media service is here, with
//! its own state, settings and OpenAPI paths, so a fork without media deletes this folder and
//! the two lines that name it: `pub mod media;` and its line in `crate::parts::PARTS`.
//!
//! Layers as in the rest of the gateway: the routes here (`api`, `uploads`, [`mount`]) →
//! `controller` → `data` (the media service's client).

mod config;
mod controller;
mod data;
mod error;
mod extract;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::StatusCode;
use platform_config::PartSettings;
use platform_runtime::Readiness;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi as _;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::{MediaSettings, UploadSettings};
pub use data::{Content, MediaClient, UploadError};
pub use error::UPLOAD_BACKLOG_FULL;

use crate::contract::RequestSchemas;
use crate::controller::images::MediaLinks;
use crate::data::UserClient;
use crate::parts::Part;
use crate::service::TokenVerifier;
use crate::{AppState, Settings};

/// What the media handlers read through `State<MediaState>`.
#[derive(Clone)]
pub struct MediaState {
    client: MediaClient,
    users: UserClient,
    links: MediaLinks,
    /// The largest image `POST /v1/media` accepts (`GATEWAY_MAX_UPLOAD_BYTES`).
    max_upload_bytes: u64,
    verifier: Arc<TokenVerifier>,
    contract: Arc<RequestSchemas>,
}

impl MediaState {
    /// The media client from `settings`, beside what it shares with the gateway's own state.
    fn new(settings: &MediaSettings, shared: &AppState) -> anyhow::Result<Self> {
        Ok(Self {
            client: MediaClient::new(
                platform_grpc::connect(&settings.grpc)?,
                settings.grpc.request_timeout,
                settings.uploads.timeout,
            ),
            users: shared.users.clone(),
            links: shared.links.clone(),
            max_upload_bytes: settings.uploads.max_bytes,
            verifier: shared.verifier.clone(),
            contract: shared.contract.clone(),
        })
    }
}

impl FromRef<MediaState> for Arc<TokenVerifier> {
    fn from_ref(state: &MediaState) -> Self {
        state.verifier.clone()
    }
}

impl FromRef<MediaState> for Arc<RequestSchemas> {
    fn from_ref(state: &MediaState) -> Self {
        state.contract.clone()
    }
}

/// The tag the media paths are listed under.
#[derive(utoipa::OpenApi)]
#[openapi(tags((name = "media", description = "Images: uploads, processing, and their bytes")))]
struct MediaDoc;

/// Small JSON bodies, answered within the request timeout (`crate::routes::limited`).
fn api() -> OpenApiRouter<MediaState> {
    OpenApiRouter::new()
        .routes(routes!(controller::set_avatar))
        .routes(routes!(controller::get))
        .routes(routes!(controller::content))
}

/// Uploads stream large bodies: the `ImageUpload` extractor enforces their own limit as they
/// arrive, and they get the upload deadline instead of the request timeout.
fn uploads() -> OpenApiRouter<MediaState> {
    OpenApiRouter::new().routes(routes!(controller::upload))
}

/// The media routes as a part of the gateway (`crate::parts::PARTS`).
pub const PART: Part = Part {
    settings: |env| Ok(Box::new(MediaSettings::from_env(env)?) as Box<dyn PartSettings>),
    for_tests: config::for_tests,
    paths,
    mount,
};

/// The media paths and their tag, for the gateway's OpenAPI document.
fn paths() -> OpenApi {
    MediaDoc::openapi().merge_from(api().merge(uploads()).into_openapi())
}

/// The media routes with their state and limits, ready to merge into the gateway's; the media
/// service's check joins `readiness` (it only degrades the gateway, as every upstream does).
fn mount(
    settings: &Settings,
    shared: &AppState,
    readiness: &Readiness,
) -> anyhow::Result<OpenApiRouter<AppState>> {
    let media = settings.media();
    let state = MediaState::new(media, shared)?;
    let client = state.client.clone();
    readiness.add_degrading_check("media", move || {
        let client = client.clone();
        async move { client.check().await }
    });
    let api = crate::routes::limited(api(), &settings.http);
    let uploads = uploads().layer(TimeoutLayer::with_status_code(
        StatusCode::GATEWAY_TIMEOUT,
        media.uploads.timeout,
    ));
    Ok(api.merge(uploads).with_state(state))
}
