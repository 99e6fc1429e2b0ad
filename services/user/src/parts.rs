//! The user service's parts: what it does only because another service exists, kept whole so
//! a fork can remove it with that service (today only [`crate::avatars`], with media). A part
//! brings its own settings and plugs itself into the controller; the service knows it only by
//! its line in [`PARTS`].

use std::sync::Arc;

use platform_config::{ConfigError, Env, Parts, ReadPart};

use crate::Settings;
use crate::controller::UserController;
use crate::service::Profiles;

/// Every part of the user service, one line each.
pub const PARTS: &[Part] = &[crate::avatars::PART];

/// What the user service asks of a part.
pub struct Part {
    /// Reads and validates its settings, with the service's (`Settings::parts`); an error
    /// names the variable.
    pub settings: ReadPart,
    /// Its settings for tests (`Settings::for_tests`): its upstream where nothing listens until
    /// a test points it elsewhere.
    pub for_tests: fn(&mut Settings),
    /// The controller, with the RPCs the part answers handed to it.
    pub mount: fn(UserController, &Settings, &Arc<Profiles>) -> anyhow::Result<UserController>,
}

/// Every part's settings, for `Settings::from_env`.
pub fn settings(env: &Env) -> Result<Parts, ConfigError> {
    let readers: Vec<ReadPart> = PARTS.iter().map(|part| part.settings).collect();
    Parts::from_env(env, &readers)
}

/// `users` with every part mounted.
pub fn mount(
    users: UserController,
    settings: &Settings,
    profiles: &Arc<Profiles>,
) -> anyhow::Result<UserController> {
    PARTS
        .iter()
        .try_fold(users, |users, part| (part.mount)(users, settings, profiles))
}
