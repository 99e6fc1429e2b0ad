//! The domain types more than one service reads: [`UserId`], [`Region`], [`Email`] and
//! [`DisplayName`].
//!
//! Each is parsed once, where it enters a service (a request, a config variable, a token),
//! and is valid from then on: the inner value is private, so no code can build one that
//! skipped the rule, and each rule is written once, here. A failed parse says what was wrong;
//! its message is the description a field violation carries, so callers only add the field's
//! name.
//!
//! ```
//! use platform_domain::{DisplayName, Region, UserId};
//!
//! let region = Region::parse("eu").unwrap();
//! let id = UserId::generate(&region);
//! assert_eq!(UserId::parse(id.as_ref()).unwrap().region(), &region);
//!
//! let error = DisplayName::parse("   ").unwrap_err();
//! assert_eq!(error.to_string(), "must not be empty");
//! ```

mod display_name;
mod email;
mod region;
mod user_id;

pub use display_name::{DISPLAY_NAME_MAX_CHARS, DisplayName, DisplayNameError};
pub use email::{EMAIL_MAX_CHARS, Email, EmailError};
pub use region::{Region, RegionError};
pub use user_id::{UserId, UserIdError};

/// `AsRef<str>`, `Display`, `From<T> for String` and comparison with text, for a type whose
/// field `$field` holds its text: the ways a parsed value is used, the same for each.
macro_rules! text_type {
    ($type:ty, $field:tt) => {
        impl AsRef<str> for $type {
            fn as_ref(&self) -> &str {
                &self.$field
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.$field)
            }
        }

        impl From<$type> for String {
            fn from(value: $type) -> Self {
                value.$field
            }
        }

        impl PartialEq<str> for $type {
            fn eq(&self, other: &str) -> bool {
                self.$field == other
            }
        }

        impl PartialEq<&str> for $type {
            fn eq(&self, other: &&str) -> bool {
                self.$field == *other
            }
        }
    };
}
pub(crate) use text_type;
