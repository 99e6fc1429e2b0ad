//! User ids name their home region: `eu_0192f4c1a2b37c4d8e9f0a1b2c3d4e5f` lives in `eu`.
//! The auth service mints them; this is the one place that reads them.

/// The home region of `user_id`, or `None` if it is not a well-formed id.
pub fn home_region(user_id: &str) -> Option<&str> {
    let (region, rest) = user_id.split_once('_')?;
    let region_ok = (2..=16).contains(&region.len())
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let rest_ok = rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit());
    (region_ok && rest_ok).then_some(region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_is_read_from_the_id() {
        assert_eq!(
            home_region("us_0192f4c1a2b37c4d8e9f0a1b2c3d4e5f"),
            Some("us")
        );
    }

    #[test]
    fn malformed_ids_have_no_region() {
        for id in [
            "",
            "us",
            "us_",
            "US_0192f4c1a2b37c4d8e9f0a1b2c3d4e5f",
            "us_xyz",
            "us_0192f4c1a2b37c4d8e9f0a1b2c3d4e5f0",
        ] {
            assert_eq!(home_region(id), None, "{id}");
        }
    }
}
