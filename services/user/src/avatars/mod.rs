//! Avatars: picking one of one's own images as profile picture (`SetAvatar`). Everything the
//! user service does only because the media service exists is here, with its own settings,
//! errors and layers, so a fork without media deletes this folder and the two lines that name
//! it: `pub mod avatars;` and its line in `crate::parts::PARTS`.
//!
//! Without this module the profile keeps its optional `avatar` (it is part of the user
//! contract, and rows may still hold one) and `SetAvatar`, still in `user.proto`, answers
//! `UNIMPLEMENTED`: [`PART`]'s `mount` is what hands it to this module
//! (`UserController::with_avatars`).
//! The gateway without its media module has no route to it.
//!
//! Layers as in the rest of the service: `controller` (the `SetAvatar` RPC) → `service` (who
//! may pick what) → `data` (the media service's client).

mod config;
mod controller;
mod data;
mod error;
mod service;

use std::sync::Arc;

pub use config::AvatarSettings;
pub use controller::AvatarController;
pub use data::{Media, MediaClient, MediaError};
pub use error::AvatarError;
pub use service::Avatars;

use platform_config::PartSettings;

use crate::Settings;
use crate::controller::UserController;
use crate::parts::Part;
use crate::service::Profiles;

/// Avatars as a part of the user service (`crate::parts::PARTS`).
pub const PART: Part = Part {
    settings: |env| Ok(Box::new(AvatarSettings::from_env(env)?) as Box<dyn PartSettings>),
    for_tests: config::for_tests,
    mount,
};

/// `users`, answering `SetAvatar` through the media service of the avatars' settings. Only
/// picking an avatar asks it, so it is not a readiness check: while it is down every other
/// call works.
fn mount(
    users: UserController,
    settings: &Settings,
    profiles: &Arc<Profiles>,
) -> anyhow::Result<UserController> {
    let media = MediaClient::new(platform_grpc::connect(&settings.avatars().media)?);
    let avatars = Avatars::new(media, profiles.clone());
    Ok(users.with_avatars(Arc::new(AvatarController::new(avatars))))
}
