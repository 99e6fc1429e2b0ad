//! User ids, which name their home region: `eu_0192f4c1a2b37c4d8e9f0a1b2c3d4e5f` lives in `eu`.

use crate::Region;

/// A user id: a [`Region`], `_`, and 32 hex digits (a UUIDv7 when minted by
/// [`UserId::generate`]). The region prefix lets every service route a user to its shard
/// without a lookup; the UUIDv7 makes ids sort by creation time and index well.
///
/// ```
/// use platform_domain::UserId;
///
/// let id = UserId::parse("us_0192f4c1a2b37c4d8e9f0a1b2c3d4e5f").unwrap();
/// assert_eq!(id.region().as_ref(), "us");
/// assert!(UserId::parse("us_xyz").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId {
    text: String,
    region: Region,
}

crate::text_type!(UserId, text);

/// Why a text is not a user id; it quotes the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserIdError {
    #[error("{0:?} is not a user id: it has no `_` after the region")]
    NoSeparator(String),
    #[error("{0:?} is not a user id: its region is not 2 to 16 lowercase letters or digits")]
    Region(String),
    #[error("{0:?} is not a user id: the region must be followed by 32 hex digits")]
    Suffix(String),
}

impl UserId {
    /// A new id for a user whose home is `region`.
    pub fn generate(region: &Region) -> Self {
        Self {
            text: format!("{region}_{}", uuid::Uuid::now_v7().simple()),
            region: region.clone(),
        }
    }

    /// The user id `text` is, if it is well-formed.
    pub fn parse(text: &str) -> Result<Self, UserIdError> {
        let Some((region, rest)) = text.split_once('_') else {
            return Err(UserIdError::NoSeparator(text.to_owned()));
        };
        let region = Region::parse(region).map_err(|_| UserIdError::Region(text.to_owned()))?;
        if rest.len() != 32 || !rest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(UserIdError::Suffix(text.to_owned()));
        }
        Ok(Self {
            text: text.to_owned(),
            region,
        })
    }

    /// The region the user's data lives in.
    pub fn region(&self) -> &Region {
        &self.region
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_is_read_from_the_id() {
        let id = UserId::parse("us_0192f4c1a2b37c4d8e9f0a1b2c3d4e5f").unwrap();
        assert_eq!(id.region().as_ref(), "us");
        assert_eq!(id.as_ref(), "us_0192f4c1a2b37c4d8e9f0a1b2c3d4e5f");
    }

    #[test]
    fn generated_ids_carry_their_region_and_parse_back() {
        let region = Region::parse("us").unwrap();
        let id = UserId::generate(&region);
        assert!(
            id.as_ref().starts_with("us_") && id.as_ref().len() == 35,
            "{id}"
        );
        assert_eq!(UserId::parse(id.as_ref()), Ok(id));
    }

    #[test]
    fn each_malformed_id_is_refused_with_what_is_wrong() {
        let no_separator = ["", "us"];
        let bad_region = [
            "US_0192f4c1a2b37c4d8e9f0a1b2c3d4e5f",
            "_0192f4c1a2b37c4d8e9f0a1b2c3d4e5f",
        ];
        let bad_suffix = ["us_", "us_xyz", "us_0192f4c1a2b37c4d8e9f0a1b2c3d4e5f0"];
        for id in no_separator {
            assert_eq!(UserId::parse(id), Err(UserIdError::NoSeparator(id.into())));
        }
        for id in bad_region {
            assert_eq!(UserId::parse(id), Err(UserIdError::Region(id.into())));
        }
        for id in bad_suffix {
            let error = UserId::parse(id).unwrap_err();
            assert_eq!(error, UserIdError::Suffix(id.into()));
            assert!(error.to_string().contains("32 hex digits"), "{error}");
        }
    }
}
