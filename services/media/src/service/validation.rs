//! The rules a request's or an event's fields keep, the one place the media service checks
//! them: every bad field is reported at once, by name.

use std::collections::HashSet;

use uuid::Uuid;

use crate::MediaError;
use crate::error::FieldViolation;
use crate::service::{NewUpload, Outcome};

/// Owner ids are user ids (`eu_<uuid>`); anything much longer is not one.
pub const OWNER_ID_MAX_CHARS: usize = 128;

/// An upload's metadata: who owns it and its declared type.
pub fn new_upload(owner_id: String, content_type: String) -> Result<NewUpload, MediaError> {
    let mut violations = Vec::new();
    if owner_id.trim().is_empty() {
        violations.push(FieldViolation {
            field: "metadata.owner_id",
            description: "must not be empty".to_owned(),
        });
    } else if owner_id.chars().count() > OWNER_ID_MAX_CHARS
        || owner_id.chars().any(char::is_control)
    {
        violations.push(FieldViolation {
            field: "metadata.owner_id",
            description: format!("must be at most {OWNER_ID_MAX_CHARS} printable characters"),
        });
    }
    if !platform_mime::is_accepted(&content_type) {
        violations.push(FieldViolation {
            field: "metadata.content_type",
            description: format!(
                "{:?} is not accepted; send one of {}",
                content_type,
                platform_mime::ACCEPTED_IMAGE_TYPES.join(", ")
            ),
        });
    }
    if violations.is_empty() {
        Ok(NewUpload {
            owner_id,
            content_type,
        })
    } else {
        Err(MediaError::InvalidInput(violations))
    }
}

/// What the worker reports must fit the tables: named, distinct variants with a place in
/// storage, positive dimensions that fit an `int`, sizes that fit a `bigint`.
pub fn outcome(outcome: &Outcome) -> Result<(), MediaError> {
    let Outcome::Ready {
        width,
        height,
        variants,
    } = outcome
    else {
        return Ok(());
    };
    let mut violations = Vec::new();
    let mut bad = |field: &'static str, description: &str| {
        violations.push(FieldViolation {
            field,
            description: description.to_owned(),
        });
    };
    let dimension_ok = |d: u32| d > 0 && i32::try_from(d).is_ok();
    if !dimension_ok(*width) || !dimension_ok(*height) {
        bad(
            "ready.width",
            "the dimensions must be positive and fit 31 bits",
        );
    }
    let mut names = HashSet::new();
    for variant in variants {
        if variant.name.is_empty() || !names.insert(variant.name.as_str()) {
            bad("ready.variants.name", "each variant needs a distinct name");
        }
        if variant.object_key.is_empty() {
            bad(
                "ready.variants.object_key",
                "each variant needs an object key",
            );
        }
        if !dimension_ok(variant.width)
            || !dimension_ok(variant.height)
            || i64::try_from(variant.size_bytes).is_err()
        {
            bad("ready.variants", "dimensions or size out of range");
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(MediaError::InvalidInput(violations))
    }
}

/// The media id `text` names, if it is a UUID in its canonical form (hyphenated, lowercase). Any other spelling of a UUID
/// (simple, braced, uppercase) is refused like any other string, so each media has exactly
/// one id and one set of URLs (which CDNs cache by).
pub fn parse_media_id(text: &str) -> Option<Uuid> {
    Uuid::try_parse(text)
        .ok()
        .filter(|id| id.hyphenated().to_string() == text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Variant;

    fn variant(name: &str, width: u32) -> Variant {
        Variant {
            name: name.to_owned(),
            width,
            height: 10,
            content_type: "image/jpeg".to_owned(),
            size_bytes: 100,
            object_key: format!("variants/m/{name}.jpg"),
            etag: "e".to_owned(),
        }
    }

    fn fields(outcome: &Outcome) -> Vec<&'static str> {
        match super::outcome(outcome) {
            Ok(()) => Vec::new(),
            Err(MediaError::InvalidInput(violations)) => {
                violations.iter().map(|v| v.field).collect()
            }
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_well_formed_ready_outcome_and_any_failure_pass() {
        let ready = Outcome::Ready {
            width: 10,
            height: 10,
            variants: vec![variant("original", 10), variant("thumb", 5)],
        };
        assert!(fields(&ready).is_empty());
        let failed = Outcome::Failed {
            error: "IMAGE_UNREADABLE: no".to_owned(),
        };
        assert!(fields(&failed).is_empty());
    }

    #[test]
    fn unnamed_repeated_or_oversized_variants_are_refused() {
        let ready = Outcome::Ready {
            width: 0,
            height: 10,
            variants: vec![
                variant("thumb", 5),
                variant("thumb", 6),
                variant("", 7),
                variant("huge", u32::MAX),
            ],
        };
        assert_eq!(
            fields(&ready),
            [
                "ready.width",
                "ready.variants.name",
                "ready.variants.name",
                "ready.variants"
            ]
        );
    }

    #[test]
    fn only_the_canonical_form_is_an_id() {
        let id = Uuid::now_v7();
        assert_eq!(parse_media_id(&id.to_string()), Some(id));
        for other in [
            id.simple().to_string(),
            id.braced().to_string(),
            id.to_string().to_uppercase(),
            "not-an-id".to_owned(),
            String::new(),
        ] {
            assert_eq!(parse_media_id(&other), None, "{other}");
        }
    }
}
