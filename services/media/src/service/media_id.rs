//! Media ids on the wire: UUIDv7 in the hyphenated lowercase form, and nothing else.

use uuid::Uuid;

/// The id `text` names, if it is one in its canonical form. Any other spelling of a UUID
/// (simple, braced, uppercase) is refused like any other string, so each media has exactly
/// one id and one set of URLs (which CDNs cache by).
pub fn parse_media_id(text: &str) -> Option<Uuid> {
    Uuid::try_parse(text)
        .ok()
        .filter(|id| id.hyphenated().to_string() == text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_canonical_form_is_an_id() {
        let id = Uuid::now_v7();
        assert_eq!(parse_media_id(&id.to_string()), Some(id));
        for other in [
            id.simple().to_string(),
            id.braced().to_string(),
            id.to_string().to_uppercase(),
            "not-an-id".to_owned(),
            String::new(),
        ] {
            assert_eq!(parse_media_id(&other), None, "{other}");
        }
    }
}
