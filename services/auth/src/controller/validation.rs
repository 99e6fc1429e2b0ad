//! Input validation: every bad field is reported at once, by name.

use platform_proto::auth::v1 as pb;

use crate::service::{Login, Registration};
use crate::{AuthError, FieldViolation};

pub const PASSWORD_MIN_CHARS: usize = 8;
/// Argon2 accepts more, but a bound keeps one request from costing arbitrary CPU.
pub const PASSWORD_MAX_CHARS: usize = 128;
pub const DISPLAY_NAME_MAX_CHARS: usize = 64;
pub const EMAIL_MAX_CHARS: usize = 254;

/// Validates and normalises a registration.
pub fn registration(
    req: pb::RegisterRequest,
    regions: &[String],
) -> Result<Registration, AuthError> {
    let mut violations = Vec::new();
    let mut bad =
        |field, description: String| violations.push(FieldViolation { field, description });

    let email = normalise_email(&req.email);
    if let Err(reason) = check_email(&email) {
        bad("email", reason);
    }
    let password_chars = req.password.chars().count();
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
    let display_name = req.display_name.trim().to_owned();
    if display_name.is_empty() {
        bad("display_name", "must not be empty".into());
    } else if display_name.chars().count() > DISPLAY_NAME_MAX_CHARS {
        bad(
            "display_name",
            format!("must be at most {DISPLAY_NAME_MAX_CHARS} characters"),
        );
    } else if display_name.chars().any(char::is_control) {
        bad("display_name", "must not contain control characters".into());
    }
    if !regions.contains(&req.region) {
        bad("region", format!("must be one of: {}", regions.join(", ")));
    }

    if violations.is_empty() {
        Ok(Registration {
            email,
            password: req.password.into(),
            display_name,
            region: req.region,
        })
    } else {
        Err(AuthError::InvalidInput(violations))
    }
}

/// Login input is not validated beyond normalising: any mismatch is the same 401.
pub fn login(req: pb::LoginRequest) -> Login {
    let mut client_address = req.client_address;
    client_address.truncate(64);
    if client_address.is_empty() {
        client_address.push_str("unknown");
    }
    Login {
        email: normalise_email(&req.email),
        password: req.password.into(),
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

fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn check_email(email: &str) -> Result<(), String> {
    if email.is_empty() {
        return Err("must not be empty".into());
    }
    if email.chars().count() > EMAIL_MAX_CHARS {
        return Err(format!("must be at most {EMAIL_MAX_CHARS} characters"));
    }
    let well_formed = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if well_formed {
        Ok(())
    } else {
        Err("is not an email address".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(email: &str, password: &str, name: &str, region: &str) -> pb::RegisterRequest {
        pb::RegisterRequest {
            email: email.into(),
            password: password.into(),
            display_name: name.into(),
            region: region.into(),
        }
    }

    #[test]
    fn every_bad_field_is_named() {
        let regions = vec!["eu".to_owned()];
        let Err(AuthError::InvalidInput(violations)) =
            registration(request("nope", "short", " ", "mars"), &regions)
        else {
            panic!("expected invalid input");
        };
        let fields: Vec<_> = violations.iter().map(|v| v.field).collect();
        assert_eq!(fields, ["email", "password", "display_name", "region"]);
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        let regions = vec!["eu".to_owned()];
        let ok = registration(
            request("  Ada@Example.COM ", "correct horse", "Ada", "eu"),
            &regions,
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
