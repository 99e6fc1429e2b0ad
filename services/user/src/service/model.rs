//! The user service's domain types: a profile, its avatar, and a profile to create.
//! Serialisable, because the cache holds profiles too; the data layer reads them from rows.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A user's profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub bio: String,
    pub region: String,
    // No `#[serde(default)]`: a cache entry written before avatars existed must read as a
    // miss (and be reloaded from Postgres), not as a profile without an avatar.
    pub avatar: Option<Avatar>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A profile picture: the media it shows and the sizes it comes in, copied from the media
/// service when the user picked it, so reading a profile never asks the media service.
/// Stored as `jsonb` in `profiles.avatar`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Avatar {
    pub media_id: String,
    pub variants: Vec<AvatarVariant>,
}

/// One size of an avatar, served at `/v1/media/{media_id}/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvatarVariant {
    pub name: String,
    pub width: u32,
    pub height: u32,
}

/// A profile to create, from the registration that announced the user.
#[derive(Debug, Clone)]
pub struct NewProfile {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub region: String,
}
