//! The media service's records as plain types: a media, its variants, its status, and the
//! worker's verdict on it.

use time::OffsetDateTime;
use uuid::Uuid;

/// Where a media is in its life. Stored as lowercase text (`media_status_check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaStatus {
    Pending,
    Processing,
    Ready,
    Failed,
}

impl MediaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }

    /// Whether the worker's verdict is in: a late or repeated `media.processed` must not
    /// change it.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Ready | Self::Failed)
    }
}

impl TryFrom<String> for MediaStatus {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        match text.as_str() {
            "pending" => Ok(Self::Pending),
            "processing" => Ok(Self::Processing),
            "ready" => Ok(Self::Ready),
            "failed" => Ok(Self::Failed),
            _ => Err(format!("unknown media status {text:?}")),
        }
    }
}

/// A stored media with its variants (none until it is ready).
#[derive(Debug, Clone)]
pub struct Media {
    pub id: Uuid,
    pub owner_id: String,
    pub status: MediaStatus,
    pub content_type: String,
    pub size_bytes: u64,
    /// Where the original is in object storage.
    pub object_key: String,
    /// Of the original as displayed; 0 until ready.
    pub width: u32,
    pub height: u32,
    /// `<reason>: <message>` once failed.
    pub error: Option<String>,
    pub variants: Vec<Variant>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// One rendition the worker stored, `original` included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub content_type: String,
    pub size_bytes: u64,
    pub object_key: String,
    /// Hex SHA-256 of the bytes.
    pub etag: String,
}

/// An upload whose original is stored, to record.
#[derive(Debug, Clone)]
pub struct NewMedia {
    pub id: Uuid,
    pub owner_id: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub object_key: String,
}

/// The worker's verdict on a media, from `media.processed`.
#[derive(Debug, Clone)]
pub enum Outcome {
    Ready {
        width: u32,
        height: u32,
        variants: Vec<Variant>,
    },
    Failed {
        error: String,
    },
}

/// What recording an outcome did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The media took the outcome.
    Applied,
    /// This event was applied before; nothing changed.
    Duplicate,
    /// The media already had its verdict; nothing changed.
    AlreadyFinal(MediaStatus),
    /// There is no such media; nothing was recorded.
    UnknownMedia,
}
