//! One image through the pipeline: sniff the format, check the header against the limits,
//! decode, apply the EXIF orientation, flatten to RGB and render each variant as JPEG.
//!
//! Metadata is dropped on purpose: only decoded pixels are re-encoded, so no EXIF (camera
//! serial numbers, GPS position), XMP, IPTC or ICC profile reaches a variant. The EXIF
//! orientation is the one piece of metadata honoured, by rotating the pixels themselves.
//! Animated GIF and WebP become a still of their first frame.

use std::io::Cursor;

use fast_image_resize::Resizer;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use super::variants::{self, EncodedVariant, VariantSpec};
use super::{ImageLimits, jpeg};
use crate::ProcessError;

/// The outcome of [`process`]: the size of the (oriented) original and its variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    pub width: u32,
    pub height: u32,
    /// In the order of the specs given to [`process`].
    pub variants: Vec<EncodedVariant>,
}

/// Turns the uploaded bytes into one JPEG per spec. CPU-bound and slow (tens to hundreds of
/// milliseconds): call it on the worker's pool ([`start_pool`](super::start_pool)), never on an
/// async runtime thread.
///
/// The format is taken from the magic bytes, and `declared_content_type` (the upload's
/// `Content-Type`) must agree with it. The header's dimensions are checked against `limits`
/// before a single pixel is decoded, so a decompression bomb costs microseconds, not memory.
#[tracing::instrument(skip_all, fields(bytes = input.len(), declared = declared_content_type))]
pub fn process(
    input: &[u8],
    declared_content_type: &str,
    limits: &ImageLimits,
    specs: &[VariantSpec],
) -> Result<Processed, ProcessError> {
    let format = sniff(input, declared_content_type, limits)?;
    let image = decode(input, format, limits)?;
    let mut resizer = Resizer::new();
    let variants = specs
        .iter()
        .map(|spec| variants::render(&mut resizer, &image, spec))
        .collect::<Result<_, _>>()?;
    Ok(Processed {
        width: image.width(),
        height: image.height(),
        variants,
    })
}

/// The accepted format the content really is, checked against its size and declared type.
fn sniff(input: &[u8], declared: &str, limits: &ImageLimits) -> Result<ImageFormat, ProcessError> {
    let size = input.len() as u64;
    if size > limits.max_input_bytes {
        return Err(ProcessError::InputTooLarge {
            size,
            limit: limits.max_input_bytes,
        });
    }
    // The accepted types, and their magic numbers, are the platform's: the gateway and the
    // media service checked the same at upload.
    let Some(detected) = platform_mime::sniff_image(input) else {
        // Still name what it is when the decoder knows the format, for the failure message.
        return Err(ProcessError::UnsupportedFormat {
            detected: image::guess_format(input).ok().map(|f| f.to_mime_type()),
        });
    };
    // `image/png; charset=binary` and `IMAGE/PNG` both declare PNG.
    if platform_mime::essence(declared) != detected {
        return Err(ProcessError::TypeMismatch {
            // The header is the uploader's: keep the reason short whatever they sent.
            declared: declared.chars().take(64).collect(),
            detected,
        });
    }
    Ok(ImageFormat::from_mime_type(detected).expect("image decodes every accepted type"))
}

/// Decodes the pixels as the viewer should see them: EXIF orientation applied, 8-bit RGB.
fn decode(
    input: &[u8],
    format: ImageFormat,
    limits: &ImageLimits,
) -> Result<RgbImage, ProcessError> {
    let mut decoder = checked_decoder(input, format, limits)?;
    // A broken EXIF block is no reason to reject the photo: show it as stored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder)?;

    // Flatten before rotating: the rotated copy is then 3 bytes a pixel, whatever was decoded.
    let mut image = DynamicImage::ImageRgb8(flatten(image));
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}

/// A decoder whose header passed the limits, with the limits also set on the decoder. Only
/// the header has been read: nothing the size of the image is allocated yet.
fn checked_decoder<'a>(
    input: &'a [u8],
    format: ImageFormat,
    limits: &ImageLimits,
) -> Result<impl ImageDecoder + 'a, ProcessError> {
    let mut reader = ImageReader::with_format(Cursor::new(input), format);
    // While the header is read only the allocation cap applies (PNG enforces the reader's
    // limits during its header parse); the checks below give the clearer error for size.
    let mut fence = Limits::default();
    fence.max_alloc = Some(limits.max_decode_alloc_bytes);
    reader.limits(fence.clone());
    let mut decoder = reader.into_decoder()?;

    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, limits)?;
    let needed = decoder.total_bytes();
    if needed > limits.max_decode_alloc_bytes {
        return Err(ProcessError::DecodeLimit(format!(
            "a {width}×{height} {:?} image needs {needed} bytes, over the limit of {} bytes",
            decoder.color_type(),
            limits.max_decode_alloc_bytes
        )));
    }
    if format == ImageFormat::Jpeg && !jpeg::is_complete(input) {
        return Err(ProcessError::Corrupt(
            "the JPEG ends before its end-of-image marker: the upload is truncated".into(),
        ));
    }

    // Second fence, for what the checks above cannot see: the decoder enforces the same
    // bounds itself, and its working buffers count against the allocation budget. As in
    // `ImageReader::decode`, the output buffer is reserved from the budget first.
    fence.max_image_width = Some(limits.max_width);
    fence.max_image_height = Some(limits.max_height);
    fence.reserve(needed)?;
    decoder.set_limits(fence)?;
    Ok(decoder)
}

fn check_dimensions(width: u32, height: u32, limits: &ImageLimits) -> Result<(), ProcessError> {
    if width == 0 || height == 0 {
        return Err(ProcessError::Corrupt(format!(
            "the header declares a {width}×{height} image"
        )));
    }
    if width > limits.max_width || height > limits.max_height {
        return Err(ProcessError::TooLarge {
            width,
            height,
            max_width: limits.max_width,
            max_height: limits.max_height,
        });
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ProcessError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    Ok(())
}

/// 8-bit RGB, the one layout variants are made from. Transparency is composited over white,
/// as a transparent logo shows on a light page; JPEG has no alpha.
fn flatten(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8(); // no copy when already RGB8, as JPEG photos are
    }
    let rgba = image.into_rgba8();
    let mut rgb = RgbImage::new(rgba.width(), rgba.height());
    for (out, px) in rgb.chunks_exact_mut(3).zip(rgba.chunks_exact(4)) {
        let alpha = u16::from(px[3]);
        for (o, &c) in out.iter_mut().zip(&px[..3]) {
            // c·a + 255·(1 − a), rounded; at most 255·255 + 127, so it fits in u16 and u8.
            *o = ((u16::from(c) * alpha + 255 * (255 - alpha) + 127) / 255) as u8;
        }
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_type_may_carry_parameters_and_any_case() {
        let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
        let limits = ImageLimits::default();
        for declared in ["image/png", "IMAGE/PNG", " image/png ; charset=binary"] {
            assert_eq!(sniff(&png, declared, &limits), Ok(ImageFormat::Png));
        }
    }

    #[test]
    fn transparency_is_composited_over_white() {
        let pixels = vec![0, 0, 0, 0, 0, 0, 0, 255, 200, 100, 0, 128];
        let rgba = image::RgbaImage::from_raw(3, 1, pixels).unwrap();
        let rgb = flatten(DynamicImage::ImageRgba8(rgba));
        assert_eq!(rgb.as_raw(), &[255, 255, 255, 0, 0, 0, 227, 177, 127]);
    }
}
