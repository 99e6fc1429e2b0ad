//! The sizes an image is published in, and how one variant is resized and encoded.

use std::fmt;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::jpeg::JpegEncoder;
use image::{ExtendedColorType, RgbImage};

use crate::ProcessError;

/// JPEG quality of every variant: the usual setting for photos on the web, where artefacts
/// are hard to see at display size and files stay small.
const JPEG_QUALITY: u8 = 82;

/// One published size: the image is scaled so its longer side is `max_long_side`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VariantSpec {
    /// The name in URLs (`/v1/media/{id}/{name}`) and in `media.processed`.
    pub name: &'static str,
    /// [`u32::MAX`] keeps the image at its own size, since a variant is never enlarged.
    pub max_long_side: u32,
}

/// The variants every image gets: a list thumbnail, a card-sized and a full-screen picture,
/// and the `original` at full size.
///
/// The `original` is re-encoded like the others, never the uploaded bytes: its URL is public,
/// and only re-encoded pixels are guaranteed to carry no EXIF (GPS position, camera serial),
/// and to be shown the right way up in every viewer.
pub const DEFAULT_VARIANTS: &[VariantSpec] = &[
    VariantSpec {
        name: "thumb",
        max_long_side: 128,
    },
    VariantSpec {
        name: "small",
        max_long_side: 512,
    },
    VariantSpec {
        name: "large",
        max_long_side: 1600,
    },
    VariantSpec {
        name: "original",
        max_long_side: u32::MAX,
    },
];

/// One encoded variant, ready to store under its name.
#[derive(Clone, PartialEq, Eq)]
pub struct EncodedVariant {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for EncodedVariant {
    // The bytes would flood any log line this ends up in: show their count.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncodedVariant")
            .field("name", &self.name)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// The size that fits `width`×`height` into a square of `max_long_side`, keeping the aspect
/// ratio (rounded to the nearest pixel, at least 1) and never enlarging.
pub(super) fn fit(width: u32, height: u32, max_long_side: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= max_long_side {
        return (width, height);
    }
    let (long, max) = (u64::from(long), u64::from(max_long_side));
    let scale = |side: u32| {
        let scaled = (u64::from(side) * max + long / 2) / long;
        // scaled ≤ max_long_side, so it fits in a u32.
        u32::try_from(scaled.max(1)).unwrap_or(max_long_side)
    };
    (scale(width), scale(height))
}

/// Resizes `source` for `spec` (Lanczos3, a sharp filter without visible ringing on photos)
/// and encodes it as JPEG. An image already small enough is re-encoded at its own size.
pub(super) fn render(
    resizer: &mut Resizer,
    source: &RgbImage,
    spec: &VariantSpec,
) -> Result<EncodedVariant, ProcessError> {
    let failed = |reason: String| ProcessError::Encode {
        variant: spec.name,
        reason,
    };
    let (width, height) = fit(source.width(), source.height(), spec.max_long_side);
    let resized;
    let pixels = if (width, height) == source.dimensions() {
        source.as_raw().as_slice()
    } else {
        let from = ImageRef::new(
            source.width(),
            source.height(),
            source.as_raw(),
            PixelType::U8x3,
        )
        .map_err(|e| failed(e.to_string()))?;
        let mut to = Image::new(width, height, PixelType::U8x3);
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
        resizer
            .resize(&from, &mut to, &options)
            .map_err(|e| failed(e.to_string()))?;
        resized = to.into_vec();
        resized.as_slice()
    };

    let mut bytes = Vec::with_capacity(pixels.len() / 8);
    JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)
        .encode(pixels, width, height, ExtendedColorType::Rgb8)
        .map_err(|e| failed(e.to_string()))?;
    Ok(EncodedVariant {
        name: spec.name,
        width,
        height,
        content_type: "image/jpeg",
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_long_side_becomes_the_limit_and_the_short_side_is_rounded() {
        assert_eq!(fit(2400, 1600, 128), (128, 85)); // 85.33
        assert_eq!(fit(2400, 1600, 1600), (1600, 1067)); // 1066.67
        assert_eq!(fit(1600, 2400, 512), (341, 512)); // portrait
        assert_eq!(fit(1000, 1000, 128), (128, 128));
    }

    #[test]
    fn a_small_image_is_never_enlarged() {
        assert_eq!(fit(300, 200, 512), (300, 200));
        assert_eq!(fit(128, 50, 128), (128, 50));
    }

    #[test]
    fn the_full_size_spec_keeps_any_image_as_it_is() {
        assert_eq!(fit(10_000, 10_000, u32::MAX), (10_000, 10_000));
        assert_eq!(fit(1, u32::MAX, u32::MAX), (1, u32::MAX));
    }

    #[test]
    fn a_sliver_keeps_at_least_one_pixel() {
        assert_eq!(fit(10_000, 3, 128), (128, 1));
    }
}
