//! The one JPEG structure check the decoder does not make: is the upload complete?
//!
//! image's JPEG decoder (zune-jpeg, always in lenient mode) renders a file cut off mid-scan
//! with the missing rows in grey, as browsers do. A truncated upload would then be published
//! with a grey bottom forever, so the pipeline refuses a JPEG with no end-of-image marker
//! after its first scan.

const SOS: u8 = 0xDA;
const EOI: u8 = 0xD9;

/// Whether an end-of-image marker follows the first start-of-scan. Data after the marker
/// (such as the video of a "motion photo") is allowed. When the headers cannot be walked,
/// the answer is left to the decoder: `true`.
pub(super) fn is_complete(jpeg: &[u8]) -> bool {
    match first_scan(jpeg) {
        // Inside entropy-coded data a 0xFF byte is always followed by 0x00 or a restart
        // marker, so the first FF D9 after the scan starts is the real end of the image.
        Some(scan) => jpeg[scan..].windows(2).any(|w| w == [0xFF, EOI]),
        None => true,
    }
}

/// The offset of the first SOS marker, walking the header segments (an embedded EXIF
/// thumbnail has markers of its own, inside its APP1 segment, which must be skipped).
fn first_scan(jpeg: &[u8]) -> Option<usize> {
    let mut at = 2; // after SOI
    loop {
        // Any number of 0xFF fill bytes may precede a marker.
        while jpeg.get(at..at + 2)? == [0xFF, 0xFF] {
            at += 1;
        }
        let [0xFF, marker] = *jpeg.get(at..at + 2)? else {
            return None;
        };
        if marker == SOS {
            return Some(at);
        }
        let length = u16::from_be_bytes([*jpeg.get(at + 2)?, *jpeg.get(at + 3)?]);
        at += 2 + usize::from(length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI · APP1 holding a thumbnail's SOS and EOI · SOS · data · EOI.
    const WITH_THUMBNAIL: &[u8] = &[
        0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x06, 0xFF, 0xDA, 0xFF, 0xD9, 0xFF, 0xFF, 0xDA, 0x00, 0x02,
        0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9,
    ];

    #[test]
    fn a_complete_jpeg_passes_even_with_trailing_data() {
        assert!(is_complete(WITH_THUMBNAIL));
        assert!(is_complete(&[WITH_THUMBNAIL, b"ftypmp42"].concat()));
    }

    #[test]
    fn a_jpeg_cut_in_its_scan_fails_despite_the_thumbnails_end_marker() {
        assert!(!is_complete(&WITH_THUMBNAIL[..19]));
    }

    #[test]
    fn headers_that_cannot_be_walked_are_left_to_the_decoder() {
        assert!(is_complete(&WITH_THUMBNAIL[..8]));
    }
}
