//! Display names: what other users see.

/// The most characters (not bytes) a display name may have.
pub const DISPLAY_NAME_MAX_CHARS: usize = 64;

/// A display name: trimmed, not empty, at most [`DISPLAY_NAME_MAX_CHARS`] characters, and
/// no control characters.
///
/// ```
/// use platform_domain::DisplayName;
///
/// assert_eq!(DisplayName::parse("  Ada ").unwrap().as_ref(), "Ada");
/// assert_eq!(
///     DisplayName::parse("a\u{7}b").unwrap_err().to_string(),
///     "must not contain control characters"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DisplayName(String);

crate::text_type!(DisplayName, 0);

/// Why a text is not a display name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DisplayNameError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {DISPLAY_NAME_MAX_CHARS} characters")]
    TooLong,
    #[error("must not contain control characters")]
    ControlCharacter,
}

impl DisplayName {
    /// The display name `text` gives, trimmed, if it keeps the rules.
    pub fn parse(text: &str) -> Result<Self, DisplayNameError> {
        let name = text.trim();
        if name.is_empty() {
            Err(DisplayNameError::Empty)
        } else if name.chars().count() > DISPLAY_NAME_MAX_CHARS {
            Err(DisplayNameError::TooLong)
        } else if name.chars().any(char::is_control) {
            Err(DisplayNameError::ControlCharacter)
        } else {
            Ok(Self(name.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_may_use_any_script() {
        assert_eq!(DisplayName::parse(" Ada ").unwrap().as_ref(), "Ada");
        let longest = "é".repeat(DISPLAY_NAME_MAX_CHARS);
        assert_eq!(DisplayName::parse(&longest).unwrap().as_ref(), longest);
    }

    #[test]
    fn each_broken_rule_is_named() {
        let too_long = "a".repeat(DISPLAY_NAME_MAX_CHARS + 1);
        assert_eq!(DisplayName::parse(""), Err(DisplayNameError::Empty));
        assert_eq!(DisplayName::parse(" \t\n"), Err(DisplayNameError::Empty));
        assert_eq!(
            DisplayName::parse(&too_long),
            Err(DisplayNameError::TooLong)
        );
        assert_eq!(
            DisplayName::parse("a\u{0}b"),
            Err(DisplayNameError::ControlCharacter)
        );
        let messages = [
            DisplayNameError::Empty,
            DisplayNameError::TooLong,
            DisplayNameError::ControlCharacter,
        ]
        .map(|error| error.to_string());
        assert_eq!(
            messages,
            [
                "must not be empty",
                "must be at most 64 characters",
                "must not contain control characters"
            ]
        );
    }
}
