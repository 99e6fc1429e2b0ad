//! Settings of avatars, read with the user service's (`Settings::parts`). Variables read:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `MEDIA_GRPC_URL` | `http://127.0.0.1:50053` | the media service, asked when a user picks an avatar; every address the host resolves to is used |
//! | `MEDIA_GRPC_CONNECT_TIMEOUT` | `1s` | connecting to one media replica |
//! | `MEDIA_GRPC_TIMEOUT` | `3s` | deadline of one call to media (sent as `grpc-timeout`) |
//! | `MEDIA_GRPC_RESOLVE_INTERVAL` | `10s` | how often the media replica set is looked up again |

use std::net::{Ipv4Addr, SocketAddr};

use platform_config::{ConfigError, Env};
use platform_grpc::GrpcClientSettings;

use crate::Settings;

/// The avatars' settings (in `Settings::parts`; [`Settings::avatars`]).
#[derive(Debug, Clone)]
pub struct AvatarSettings {
    /// The media service, asked whether a media may become an avatar.
    pub media: GrpcClientSettings,
}

impl AvatarSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            media: GrpcClientSettings::from_env(env, "MEDIA_GRPC", "http://127.0.0.1:50053")?,
        })
    }
}

impl Settings {
    /// The avatars' settings.
    pub fn avatars(&self) -> &AvatarSettings {
        self.parts
            .get()
            .expect("Settings::from_env reads every part's settings")
    }

    /// The same settings, with the media service at `addr` and test deadlines.
    pub fn with_media(mut self, addr: SocketAddr) -> Self {
        self.avatars_mut().media = GrpcClientSettings::for_tests("media", addr);
        self
    }

    /// The avatars' settings, to change before the service starts (tests).
    pub fn avatars_mut(&mut self) -> &mut AvatarSettings {
        self.parts
            .get_mut()
            .expect("Settings::from_env reads every part's settings")
    }
}

/// For `Settings::for_tests`: no media service (port 1, where nothing listens) until
/// [`Settings::with_media`].
pub(super) fn for_tests(settings: &mut Settings) {
    let nowhere = SocketAddr::from((Ipv4Addr::LOCALHOST, 1));
    settings.avatars_mut().media = GrpcClientSettings::for_tests("media", nowhere);
}
