//! Email addresses, in the one normalised spelling they are stored and compared in.

/// The most characters an email address may have (RFC 5321's path limit).
pub const EMAIL_MAX_CHARS: usize = 254;

/// An email address: trimmed and lowercased (the one normalisation; dots and `+tags` are
/// left alone), at most [`EMAIL_MAX_CHARS`] characters, one `@` with something before it and
/// a dotted domain after it, and no spaces or control characters. Deliverability is the
/// mail server's question, not this type's.
///
/// ```
/// use platform_domain::Email;
///
/// assert_eq!(Email::parse(" Ada@Example.COM ").unwrap().as_ref(), "ada@example.com");
/// assert_eq!(Email::parse("ada").unwrap_err().to_string(), "is not an email address");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

crate::text_type!(Email, 0);

impl Email {
    /// The address `text` gives, normalised, if it is well-formed.
    pub fn parse(text: &str) -> Result<Self, EmailError> {
        let email = Self::normalise(text);
        if email.is_empty() {
            return Err(EmailError::Empty);
        }
        if email.chars().count() > EMAIL_MAX_CHARS {
            return Err(EmailError::TooLong);
        }
        let well_formed = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        });
        if well_formed {
            Ok(Self(email))
        } else {
            Err(EmailError::Malformed)
        }
    }

    /// `text` in the normalised spelling, without checking it: for looking an address up
    /// (a login), where anything malformed simply matches nothing.
    pub fn normalise(text: &str) -> String {
        text.trim().to_lowercase()
    }
}

/// Why a text is not an email address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {EMAIL_MAX_CHARS} characters")]
    TooLong,
    #[error("is not an email address")]
    Malformed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lowercased_and_nothing_else() {
        let email = Email::parse("  Ada.L+news@Example.COM ").unwrap();
        assert_eq!(email.as_ref(), "ada.l+news@example.com");
    }

    #[test]
    fn each_broken_rule_is_named() {
        let too_long = format!("{}@example.com", "a".repeat(EMAIL_MAX_CHARS));
        let cases = [
            ("", EmailError::Empty, "must not be empty"),
            ("   ", EmailError::Empty, "must not be empty"),
            (
                too_long.as_str(),
                EmailError::TooLong,
                "must be at most 254 characters",
            ),
        ];
        for (text, expected, message) in cases {
            let error = Email::parse(text).unwrap_err();
            assert_eq!(error, expected, "{text:?}");
            assert_eq!(error.to_string(), message);
        }
        for text in [
            "nope",
            "@example.com",
            "ada@example",
            "ada@.example.com",
            "ada@example.com.",
            "ada@b@example.com",
            "ada lovelace@example.com",
            "ada\u{7}@example.com",
        ] {
            let error = Email::parse(text).unwrap_err();
            assert_eq!(error, EmailError::Malformed, "{text:?}");
            assert_eq!(error.to_string(), "is not an email address");
        }
    }
}
