//! The image types the platform accepts, and how to tell them from their first bytes.
//!
//! An upload's `Content-Type` is the client's claim; its magic number is what it is. The
//! gateway and the media service both check that the two agree before storing anything, so
//! a text file labelled `image/png` is refused at the door; the media worker checks once more
//! with the same functions before its full decoder.
//!
//! ```
//! use platform_mime::{essence, sniff_image};
//!
//! assert_eq!(essence(" Image/PNG; charset=binary"), "image/png");
//! assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
//! assert_eq!(sniff_image(b"hello, world"), None);
//! ```

/// The `Content-Type`s an upload may have.
pub const ACCEPTED_IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/gif"];

/// How many leading bytes [`sniff_image`] needs to decide.
pub const SNIFF_LEN: usize = 12;

/// The media type of a `Content-Type` value: lowercase, parameters and spaces dropped.
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether `content_type` (any case, with or without parameters) is an accepted type.
pub fn is_accepted(content_type: &str) -> bool {
    ACCEPTED_IMAGE_TYPES.contains(&essence(content_type).as_str())
}

/// The accepted image type whose magic number `head` starts with, if any. Needs
/// [`SNIFF_LEN`] bytes (fewer only when the whole file is shorter).
pub fn sniff_image(head: &[u8]) -> Option<&'static str> {
    match head {
        [0xff, 0xd8, 0xff, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, ..] => Some("image/png"),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some("image/gif"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some("image/webp"),
        _ => None,
    }
}

/// Checks that `head` is an accepted image of the declared type, or says what is wrong
/// in words fit for an error message.
///
/// ```
/// let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
/// assert!(platform_mime::check_declared("image/png", png).is_ok());
/// let err = platform_mime::check_declared("image/jpeg", png).unwrap_err();
/// assert_eq!(err, "the content is image/png, not the declared image/jpeg");
/// ```
pub fn check_declared(declared: &str, head: &[u8]) -> Result<&'static str, String> {
    let declared = essence(declared);
    if !ACCEPTED_IMAGE_TYPES.contains(&declared.as_str()) {
        return Err(format!(
            "{declared:?} is not accepted; send one of {}",
            ACCEPTED_IMAGE_TYPES.join(", ")
        ));
    }
    match sniff_image(head) {
        Some(actual) if actual == declared => Ok(actual),
        Some(actual) => Err(format!(
            "the content is {actual}, not the declared {declared}"
        )),
        None => Err(format!(
            "the content is not an image (its first bytes match no accepted type), not the declared {declared}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_accepted_type_is_recognised() {
        assert_eq!(
            sniff_image(&[0xff, 0xd8, 0xff, 0xe0, 0, 0x10]),
            Some("image/jpeg")
        );
        assert_eq!(sniff_image(b"GIF89a\x01\x00\x01\x00"), Some("image/gif"));
        assert_eq!(sniff_image(b"GIF87a"), Some("image/gif"));
        assert_eq!(sniff_image(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
    }

    #[test]
    fn look_alikes_are_not_images() {
        assert_eq!(sniff_image(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(sniff_image(b"GIF88a"), None);
        assert_eq!(sniff_image(&[0xff, 0xd8]), None);
        assert_eq!(sniff_image(b""), None);
    }

    #[test]
    fn an_unaccepted_declared_type_is_named() {
        let err = check_declared("text/plain", b"hello").unwrap_err();
        assert!(err.starts_with("\"text/plain\" is not accepted"), "{err}");
    }
}
