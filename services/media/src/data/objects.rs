//! Where media bytes live in the shared object store. The originals are written here; the
//! worker writes the variants and reports their keys in `media.processed`, which are stored
//! as given.

use uuid::Uuid;

/// The key of a media's original upload: `originals/<media id>`.
pub fn original_key(media_id: Uuid) -> String {
    format!("originals/{}", media_id.hyphenated())
}
