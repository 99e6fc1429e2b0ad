//! Images as answers show them: where each size of an image is served. Profiles' avatars
//! and the media routes both hand them out.

use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

/// Builds the links the API hands out to images: `{GATEWAY_PUBLIC_URL}/v1/media/…`.
#[derive(Debug, Clone)]
pub struct MediaLinks {
    base: Arc<str>,
}

impl MediaLinks {
    /// `public_url` is empty (relative links) or an origin without a trailing `/`.
    pub fn new(public_url: &str) -> Self {
        Self {
            base: public_url.into(),
        }
    }

    pub fn media(&self, media_id: &str) -> String {
        format!("{}/v1/media/{media_id}", self.base)
    }

    pub fn variant(&self, media_id: &str, name: &str) -> String {
        format!("{}/v1/media/{media_id}/{name}", self.base)
    }
}

/// One size an image is served in.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImageVariant {
    /// `original` (full size, metadata stripped) or a size such as `thumb`.
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// Where its bytes are served, without authentication.
    pub url: String,
}

impl ImageVariant {
    pub fn new(media_id: &str, name: String, width: u32, height: u32, links: &MediaLinks) -> Self {
        Self {
            url: links.variant(media_id, &name),
            name,
            width,
            height,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_relative_without_a_public_url() {
        assert_eq!(
            MediaLinks::new("").variant("m1", "thumb"),
            "/v1/media/m1/thumb"
        );
        assert_eq!(
            MediaLinks::new("https://api.example.com").media("m1"),
            "https://api.example.com/v1/media/m1"
        );
    }
}
