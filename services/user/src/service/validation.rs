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
    fn batches_are_bounded() {
        assert!(batch(&vec![String::new(); BATCH_MAX_IDS]).is_ok());
        assert!(batch(&vec![String::new(); BATCH_MAX_IDS + 1]).is_err());
    }
}
