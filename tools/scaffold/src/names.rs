//! A new service's name and the forms it takes: `loyalty-points` is the directory, the
//! binary, the image and the Kubernetes name; `loyalty_points` the crate, proto package and
//! database; `LoyaltyPoints` the Rust types; `LOYALTY_POINTS` the variables.

use crate::{Refusal, refuse};

/// Names the platform already uses for something that is not a service directory.
const RESERVED: &[&str] = &[
    "events",
    "postgres",
    "redis",
    "kafka",
    "minio",
    "objects",
    "jaeger",
    "prometheus",
    "grafana",
    "otel",
    "otel-collector",
    "kafka-topics",
    "platform",
    "libs",
    "proto",
    "test",
    "tests",
    "core",
    "std",
    "self",
    "super",
    "crate",
];

/// A checked service name.
///
/// ```
/// use platform_scaffold::names::ServiceName;
/// let name = ServiceName::parse("loyalty-points").unwrap();
/// assert_eq!(name.snake(), "loyalty_points");
/// assert_eq!(name.pascal(), "LoyaltyPoints");
/// assert_eq!(name.upper(), "LOYALTY_POINTS");
/// assert!(ServiceName::parse("Billing").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceName(String);

impl ServiceName {
    /// Lowercase ASCII letters and digits in words joined by single hyphens, starting with a
    /// letter, at most 30 characters: valid as a crate name, a DNS label (Kubernetes), an
    /// image name and, with `_` for `-`, a proto package and a Postgres identifier.
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let problem = if raw.is_empty() {
            Some("is empty")
        } else if raw.len() > 30 {
            Some("is longer than 30 characters")
        } else if !raw.starts_with(|c: char| c.is_ascii_lowercase()) {
            Some("must start with a lowercase letter")
        } else if !raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            Some("may contain only lowercase letters, digits and hyphens")
        } else if raw.ends_with('-') || raw.contains("--") {
            Some("must not end with a hyphen or contain two in a row")
        } else if raw.ends_with("-service") || raw.ends_with("-migrate") {
            Some("must not end with -service or -migrate (they are added where needed)")
        } else if RESERVED.contains(&raw) {
            Some("is reserved for something else in the platform")
        } else {
            None
        };
        match problem {
            Some(problem) => refuse(format!("the service name {raw:?} {problem}")),
            None => Ok(Self(raw.to_owned())),
        }
    }

    /// `loyalty-points`
    pub fn kebab(&self) -> &str {
        &self.0
    }

    /// `loyalty_points`
    pub fn snake(&self) -> String {
        self.0.replace('-', "_")
    }

    /// `LOYALTY_POINTS`
    pub fn upper(&self) -> String {
        self.snake().to_ascii_uppercase()
    }

    /// `LoyaltyPoints`
    pub fn pascal(&self) -> String {
        self.0
            .split('-')
            .map(|word| {
                let mut chars = word.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_uppercase().to_string() + chars.as_str()
                })
            })
            .collect()
    }
}

/// A checked new platform name for `rename-platform`: like a service name, and short.
///
/// ```
/// use platform_scaffold::names::PlatformName;
/// assert_eq!(PlatformName::parse("acme-shop").unwrap().snake(), "acme_shop");
/// assert!(PlatformName::parse("Acme").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformName(String);

impl PlatformName {
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let valid = (2..=20).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !raw.ends_with('-')
            && !raw.contains("--");
        if !valid {
            return Err(Refusal(format!(
                "the platform name {raw:?} must be 2 to 20 lowercase letters, digits and single \
                 hyphens, starting with a letter (it becomes crate names, image names and labels)"
            ))
            .into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn kebab(&self) -> &str {
        &self.0
    }

    pub fn snake(&self) -> String {
        self.0.replace('-', "_")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(raw: &str) -> String {
        ServiceName::parse(raw).unwrap_err().to_string()
    }

    #[test]
    fn invalid_names_are_refused_with_the_reason() {
        assert!(refusal("").contains("is empty"));
        assert!(refusal("2fa").contains("start with a lowercase letter"));
        assert!(refusal("billing_v2").contains("only lowercase letters, digits and hyphens"));
        assert!(refusal("bill--ing").contains("two in a row"));
        assert!(refusal("billing-").contains("end with a hyphen"));
        assert!(refusal("billing-service").contains("-service"));
        assert!(refusal("events").contains("reserved"));
        assert!(refusal(&"a".repeat(31)).contains("30 characters"));
    }

    #[test]
    fn a_single_word_keeps_its_forms_simple() {
        let name = ServiceName::parse("billing").unwrap();
        assert_eq!(
            (name.kebab(), name.snake(), name.pascal(), name.upper()),
            (
                "billing",
                "billing".into(),
                "Billing".into(),
                "BILLING".into()
            )
        );
    }
}
