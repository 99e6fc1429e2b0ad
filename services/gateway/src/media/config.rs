//! Settings of the media routes, read with the gateway's (`Settings::parts`). Variables read:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `MEDIA_GRPC_URL` | `http://127.0.0.1:50053` | the media service; every address the host resolves to is used |
//! | `MEDIA_GRPC_CONNECT_TIMEOUT` | `1s` | connecting to one media replica |
//! | `MEDIA_GRPC_TIMEOUT` | `3s` | deadline of one call to media (sent as `grpc-timeout`); also bounds each wait for the next piece of an image being served |
//! | `MEDIA_GRPC_RESOLVE_INTERVAL` | `10s` | how often the media replica set is looked up again |
//! | `MEDIA_UPLOAD_TIMEOUT` | `60s` | a whole upload (`POST /v1/media`), sent as the Upload call's deadline |
//! | `GATEWAY_MAX_UPLOAD_BYTES` | `52428800` (50 MiB) | an uploaded image; larger is 413, as soon as it is known |

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use platform_config::{ConfigError, Env};
use platform_grpc::GrpcClientSettings;

use crate::Settings;

/// The media routes' settings (in `Settings::parts`; [`Settings::media`]): the media service,
/// and how uploads to it are bounded.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    pub grpc: GrpcClientSettings,
    pub uploads: UploadSettings,
}

/// Image uploads: streamed to the media service, so they have their own size limit and
/// deadline instead of the JSON body limit and the request timeout.
#[derive(Debug, Clone)]
pub struct UploadSettings {
    pub max_bytes: u64,
    pub timeout: Duration,
}

impl MediaSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let max_bytes = env.count_or("GATEWAY_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)?;
        Ok(Self {
            grpc: GrpcClientSettings::from_env(env, "MEDIA_GRPC", "http://127.0.0.1:50053")?,
            uploads: UploadSettings {
                max_bytes,
                timeout: env.duration_or("MEDIA_UPLOAD_TIMEOUT", Duration::from_secs(60))?,
            },
        })
    }
}

impl Settings {
    /// The media routes' settings.
    pub fn media(&self) -> &MediaSettings {
        self.parts
            .get()
            .expect("Settings::from_env reads every part's settings")
    }

    /// The media routes' settings, to change before the gateway starts (tests).
    pub fn media_mut(&mut self) -> &mut MediaSettings {
        self.parts
            .get_mut()
            .expect("Settings::from_env reads every part's settings")
    }

    /// The same settings, with the media service at `addr` and test deadlines.
    pub fn with_media(mut self, addr: SocketAddr) -> Self {
        self.media_mut().grpc = GrpcClientSettings::for_tests("media", addr);
        self
    }
}

/// For `Settings::for_tests`: the media service at port 1, where nothing listens, so a test
/// without media gets 503s, never a dev run's media.
pub(super) fn for_tests(settings: &mut Settings) {
    let nowhere = SocketAddr::from((Ipv4Addr::LOCALHOST, 1));
    settings.media_mut().grpc = GrpcClientSettings::for_tests("media", nowhere);
}
