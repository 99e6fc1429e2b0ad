//! The rules a request's fields keep, the one place auth checks them: every bad field is
//! reported at once, by name. The shared types (`Email`, `DisplayName`, `Region`) carry their
//! own rules; the rest are auth's.

use platform_config::SecretString;
use platform_domain::{DisplayName, Email, Region};

use crate::service::{Login, Registration};
use crate::{AuthError, FieldViolation};

pub const PASSWORD_MIN_CHARS: usize = 8;
/// Argon2 accepts more, but a bound keeps one request from costing arbitrary CPU.
pub const PASSWORD_MAX_CHARS: usize = 128;

/// A sign-up as it arrived, before any checks.
pub struct RegistrationForm {
    pub email: String,
    pub password: String,
    pub display_name: String,
    pub region: String,
}

/// Validates and normalises a registration; `regions` are the ones a user may choose.
pub fn registration(form: RegistrationForm, regions: &[Region]) -> Result<Registration, AuthError> {
    let mut violations = Vec::new();
    let mut bad =
        |field, description: String| violations.push(FieldViolation { field, description });

    let email = Email::parse(&form.email)
        .map_err(|e| bad("email", e.to_string()))
        .ok();
    let password_chars = form.password.chars().count();
    if password_chars < PASSWORD_MIN_CHARS {
        bad(
            "password",
            format!("must be at least {PASSWORD_MIN_CHARS} characters"),
        );
    } else if password_chars > PASSWORD_MAX_CHARS {
        bad(
            "password",
            format!("must be at most {PASSWORD_MAX_CHARS} characters"),
        );
    }
    let display_name = DisplayName::parse(&form.display_name)
        .map_err(|e| bad("display_name", e.to_string()))
        .ok();
    let region = regions.iter().find(|r| **r == *form.region).cloned();
    if region.is_none() {
        let names: Vec<&str> = regions.iter().map(AsRef::as_ref).collect();
        bad("region", format!("must be one of: {}", names.join(", ")));
    }

    match (email, display_name, region) {
        (Some(email), Some(display_name), Some(region)) if violations.is_empty() => {
            Ok(Registration {
                email,
                password: form.password.into(),
                display_name,
                region,
            })
        }
        _ => Err(AuthError::InvalidInput(violations)),
    }
}

/// Login input is not validated beyond normalising: any mismatch is the same 401.
pub fn login(email: &str, password: String, mut client_address: String) -> Login {
    client_address.truncate(64);
    if client_address.is_empty() {
        client_address.push_str("unknown");
    }
    Login {
        email: Email::normalise(email),
        password: SecretString::from(password),
        client_address,
    }
}

/// A refresh token must at least look like one of ours before it costs a database query.
pub fn refresh_token(token: &str) -> Result<&str, AuthError> {
    let plausible = token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if plausible {
        Ok(token)
    } else {
        Err(AuthError::InvalidRefreshToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(email: &str, password: &str, name: &str, region: &str) -> RegistrationForm {
        RegistrationForm {
            email: email.into(),
            password: password.into(),
            display_name: name.into(),
            region: region.into(),
        }
    }

    fn regions() -> Vec<Region> {
        vec![Region::parse("eu").unwrap()]
    }

    #[test]
    fn every_bad_field_is_named() {
        let Err(AuthError::InvalidInput(violations)) =
            registration(request("nope", "short", " ", "mars"), &regions())
        else {
            panic!("expected invalid input");
        };
        let fields: Vec<_> = violations.iter().map(|v| v.field).collect();
        assert_eq!(fields, ["email", "password", "display_name", "region"]);
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        let ok = registration(
            request("  Ada@Example.COM ", "correct horse", "Ada", "eu"),
            &regions(),
        )
        .unwrap();
        assert_eq!(ok.email, "ada@example.com");
    }

    #[test]
    fn only_token_shaped_strings_pass_as_refresh_tokens() {
        assert!(refresh_token(&"a".repeat(43)).is_ok());
        assert!(refresh_token("short").is_err());
        assert!(refresh_token(&"a/".repeat(22)[..43]).is_err());
    }
}
