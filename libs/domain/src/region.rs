//! Region names: where a user's data lives.

/// A region name such as `eu`: 2 to 16 lowercase ASCII letters or digits. Region names
/// appear in user ids (`eu_…`), URLs and database names, so they are kept plain.
///
/// ```
/// use platform_domain::Region;
///
/// assert_eq!(Region::parse("us2").unwrap().as_ref(), "us2");
/// assert_eq!(
///     Region::parse("EU").unwrap_err().to_string(),
///     r#""EU" must be 2 to 16 lowercase letters or digits"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region(String);

crate::text_type!(Region, 0);

/// Why a text is not a region name; it quotes the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} must be 2 to 16 lowercase letters or digits")]
pub struct RegionError(String);

impl Region {
    /// The region `text` names, if it is a plain region name.
    pub fn parse(text: &str) -> Result<Self, RegionError> {
        let plain = (2..=16).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        plain
            .then(|| Self(text.to_owned()))
            .ok_or_else(|| RegionError(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_regions() {
        for name in ["eu", "us", "ap1", "0123456789abcdef"] {
            assert_eq!(Region::parse(name).unwrap().as_ref(), name);
        }
    }

    #[test]
    fn each_broken_rule_is_refused_and_the_error_quotes_the_name() {
        for name in [
            "",
            "e",
            "0123456789abcdefg",
            "EU",
            "eu-west",
            "eu_west",
            " eu",
            "é1",
        ] {
            let error = Region::parse(name).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("{name:?} must be 2 to 16 lowercase letters or digits")
            );
        }
    }
}
