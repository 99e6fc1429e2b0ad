//! The rules a request's fields keep, the one place the user service checks them: every bad
//! field is reported at once, by name. `DisplayName` and `UserId` carry their own rules
//! (`platform-domain`); the rest are the user service's.

use platform_domain::DisplayName;

use crate::UserError;
use crate::error::FieldViolation;
use crate::service::ProfilePatch;

pub const BIO_MAX_CHARS: usize = 500;
/// A batch is for one page of a list view; more is a client bug or abuse.
pub const BATCH_MAX_IDS: usize = 100;
/// Media ids are UUIDs; anything much longer is not one, and is not sent on.
pub const MEDIA_ID_MAX_CHARS: usize = 64;

/// A profile update; `None` fields stay as they are.
pub fn patch(display_name: Option<String>, bio: Option<String>) -> Result<ProfilePatch, UserError> {
    let mut violations = Vec::new();
    let display_name = display_name
        .map(|name| DisplayName::parse(&name))
        .transpose()
        .map_err(|e| violations.push(violation("display_name", e.to_string())))
        .ok()
        .flatten();
    if let Some(bio) = &bio
        && bio.chars().count() > BIO_MAX_CHARS
    {
        violations.push(violation(
            "bio",
            format!("must be at most {BIO_MAX_CHARS} characters"),
        ));
    }
    if violations.is_empty() {
        Ok(ProfilePatch { display_name, bio })
    } else {
        Err(UserError::InvalidInput(violations))
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
    Err(UserError::InvalidInput(vec![violation(
        "media_id",
        description.to_owned(),
    )]))
}

/// The ids of one batch read.
pub fn batch(ids: &[String]) -> Result<&[String], UserError> {
    if ids.len() > BATCH_MAX_IDS {
        return Err(UserError::InvalidInput(vec![violation(
            "user_ids",
            format!("at most {BATCH_MAX_IDS} per call"),
        )]));
    }
    Ok(ids)
}

fn violation(field: &'static str, description: String) -> FieldViolation {
    FieldViolation { field, description }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(result: Result<ProfilePatch, UserError>) -> Vec<&'static str> {
        match result {
            Ok(_) => Vec::new(),
            Err(UserError::InvalidInput(violations)) => {
                violations.iter().map(|v| v.field).collect()
            }
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_bad_field_is_named() {
        let long_bio = "b".repeat(BIO_MAX_CHARS + 1);
        assert_eq!(
            fields(patch(Some(" ".into()), Some(long_bio))),
            ["display_name", "bio"]
        );
        assert!(fields(patch(Some(" Ada ".into()), None)).is_empty());
        assert!(fields(patch(None, None)).is_empty());
    }

    #[test]
    fn display_names_are_trimmed() {
        let patch = patch(Some(" Ada ".into()), None).unwrap();
        assert_eq!(patch.display_name.unwrap().as_ref(), "Ada");
    }

    #[test]
    fn media_ids_and_batches_are_bounded() {
        assert!(media_id("0192f4c1-a2b3-7c4d-8e9f-0a1b2c3d4e5f").is_ok());
        for bad in ["", "a\u{0}", &"a".repeat(MEDIA_ID_MAX_CHARS + 1)] {
            assert!(media_id(bad).is_err(), "{bad:?}");
        }
        assert!(batch(&vec![String::new(); BATCH_MAX_IDS]).is_ok());
        assert!(batch(&vec![String::new(); BATCH_MAX_IDS + 1]).is_err());
    }
}
