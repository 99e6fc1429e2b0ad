//! Picking a profile picture: only a media that is the user's own and ready to serve may
//! become their avatar. The media service is the authority on both, so it is asked, within
//! its deadline, at the moment of picking.

use std::sync::Arc;

use crate::UserError;
use crate::data::MediaClient;
use crate::service::{Avatar, Profile, Profiles};

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
    pub async fn set(&self, user_id: &str, media_id: &str) -> Result<Profile, UserError> {
        let media = self
            .media
            .find(media_id)
            .await?
            .ok_or(UserError::MediaNotFound)?;
        // Ownership first: whether someone else's media is ready is none of the caller's
        // business.
        if media.owner_id != user_id {
            return Err(UserError::MediaNotYours);
        }
        if !media.ready {
            return Err(UserError::MediaNotReady);
        }
        let avatar = Avatar {
            media_id: media.id,
            variants: media.variants,
        };
        self.profiles.set_avatar(user_id, &avatar).await
    }
}
