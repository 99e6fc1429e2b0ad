//! The gateway's parts: the routes it serves for one upstream, kept whole so a fork can remove
//! them with that upstream (today only [`crate::media`]). A part brings its own settings,
//! state, routes, OpenAPI paths and readiness check; the gateway knows it only by its line in
//! [`PARTS`], and reads, documents and mounts every part listed there the same way.

use platform_config::{ConfigError, Env, Parts, ReadPart};
use platform_runtime::Readiness;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::{AppState, Settings};

/// Every part of the gateway, one line each.
pub const PARTS: &[Part] = &[crate::media::PART];

/// What the gateway asks of a part.
pub struct Part {
    /// Reads and validates its settings, with the gateway's (`Settings::parts`); an error
    /// names the variable.
    pub settings: ReadPart,
    /// Its settings for tests (`Settings::for_tests`): test deadlines, and its upstream where
    /// nothing listens until a test points it elsewhere.
    pub for_tests: fn(&mut Settings),
    /// Its paths and tags, merged into the gateway's OpenAPI document.
    pub paths: fn() -> OpenApi,
    /// Its routes with their state and limits, ready to merge into the gateway's; its
    /// upstream's check joins `readiness`.
    pub mount: fn(&Settings, &AppState, &Readiness) -> anyhow::Result<OpenApiRouter<AppState>>,
}

/// Every part's settings, for `Settings::from_env`.
pub fn settings(env: &Env) -> Result<Parts, ConfigError> {
    let readers: Vec<ReadPart> = PARTS.iter().map(|part| part.settings).collect();
    Parts::from_env(env, &readers)
}

/// Every part's paths, for the OpenAPI document.
pub fn paths() -> impl Iterator<Item = OpenApi> {
    PARTS.iter().map(|part| (part.paths)())
}

/// Every part's routes.
pub fn mount(
    settings: &Settings,
    shared: &AppState,
    readiness: &Readiness,
) -> anyhow::Result<Vec<OpenApiRouter<AppState>>> {
    PARTS
        .iter()
        .map(|part| (part.mount)(settings, shared, readiness))
        .collect()
}
