//! Picking a profile picture: only a media that is the user's own and ready to serve may
//! become their avatar. The media service is the authority on both, so it is asked, within
//! its deadline, at the moment of picking.

use std::sync::Arc;

use super::{AvatarError, MediaClient};
use crate::UserError;
use crate::error::FieldViolation;
use crate::service::{Avatar, Profile, Profiles};

/// Media ids are UUIDs; anything much longer is not one, and is not sent on.
pub const MEDIA_ID_MAX_CHARS: usize = 64;

pub struct Avatars {
    media: MediaClient,
    profiles: Arc<Profiles>,
}

impl Avatars {
    pub fn new(media: MediaClient, profiles: Arc<Profiles>) -> Self {
        Self { media, profiles }
    }

    /// Makes media `media_id` the avatar of user `user_id`; returns the updated profile.
    #[tracing::instrument(skip_all, fields(user_id = user_id, media_id = media_id))]
    pub async fn set(&self, user_id: &str, media_id: &str) -> Result<Profile, AvatarError> {
        let media = self
            .media
            .find(media_id)
            .await?
            .ok_or(AvatarError::MediaNotFound)?;
        // Ownership first: whether someone else's media is ready is none of the caller's
        // business.
        if media.owner_id != user_id {
            return Err(AvatarError::MediaNotYours);
        }
        if !media.ready {
            return Err(AvatarError::MediaNotReady);
        }
        let avatar = Avatar {
            media_id: media.id,
            variants: media.variants,
        };
        Ok(self.profiles.set_avatar(user_id, &avatar).await?)
    }
}

/// The media a user picks as their avatar, before the media service is asked about it.
pub fn media_id(raw: &str) -> Result<&str, UserError> {
    let description = if raw.is_empty() {
        "is required"
    } else if raw.chars().count() > MEDIA_ID_MAX_CHARS || raw.chars().any(char::is_control) {
        "is not a media id"
    } else {
        return Ok(raw);
    };
    Err(UserError::InvalidInput(vec![FieldViolation {
        field: "media_id",
        description: description.to_owned(),
    }]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_ids_are_bounded() {
        assert!(media_id("0192f4c1-a2b3-7c4d-8e9f-0a1b2c3d4e5f").is_ok());
        for bad in ["", "a\u{0}", &"a".repeat(MEDIA_ID_MAX_CHARS + 1)] {
            assert!(media_id(bad).is_err(), "{bad:?}");
        }
    }
}
