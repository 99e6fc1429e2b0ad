use std::io::Cursor;

use image::codecs::jpeg::JpegDecoder;
use image::metadata::Orientation;
use image::{DynamicImage, GenericImageView, ImageDecoder, ImageFormat, Rgb, RgbImage, Rgba};
use media_worker::ProcessError;
use media_worker::service::images::{
    DEFAULT_VARIANTS, EncodedVariant, ImageLimits, Processed, process,
};

use crate::images;

fn process_default(input: &[u8], declared: &str) -> Result<Processed, ProcessError> {
    process(input, declared, &ImageLimits::default(), DEFAULT_VARIANTS)
}

/// Processes `input` under the default limits as `tighten` changes them, expecting a refusal.
fn refused_under(
    input: &[u8],
    declared: &str,
    tighten: impl FnOnce(&mut ImageLimits),
) -> ProcessError {
    let mut limits = ImageLimits::default();
    tighten(&mut limits);
    process(input, declared, &limits, DEFAULT_VARIANTS).unwrap_err()
}

fn decode(variant: &EncodedVariant) -> DynamicImage {
    assert_eq!(variant.content_type, "image/jpeg");
    image::load_from_memory_with_format(&variant.bytes, ImageFormat::Jpeg)
        .unwrap_or_else(|e| panic!("variant {} does not decode: {e}", variant.name))
}

fn sizes(processed: &Processed) -> Vec<(&str, u32, u32)> {
    processed
        .variants
        .iter()
        .map(|v| (v.name, v.width, v.height))
        .collect()
}

#[test]
fn a_photo_gets_every_variant_at_its_aspect_ratio() {
    let input = images::jpeg(&images::photo(2400, 1600));

    let processed = process_default(&input, "image/jpeg").unwrap();

    assert_eq!((processed.width, processed.height), (2400, 1600));
    assert_eq!(
        sizes(&processed),
        [
            ("thumb", 128, 85),
            ("small", 512, 341),
            ("large", 1600, 1067),
            ("original", 2400, 1600)
        ]
    );
    for variant in &processed.variants {
        assert_eq!(
            decode(variant).dimensions(),
            (variant.width, variant.height)
        );
    }
}

#[test]
fn a_small_png_is_never_enlarged() {
    let input = images::encode(&images::photo(300, 200).into(), ImageFormat::Png);

    let processed = process_default(&input, "image/png").unwrap();

    assert_eq!(
        sizes(&processed),
        [
            ("thumb", 128, 85),
            ("small", 300, 200),
            ("large", 300, 200),
            ("original", 300, 200)
        ]
    );
}

#[test]
fn exif_orientation_is_applied_and_no_exif_reaches_the_variants() {
    // Left half red, right half blue; Orientation 6 means "rotate 90° clockwise to view",
    // which brings the left edge to the top.
    let stored = RgbImage::from_fn(600, 400, |x, _| {
        if x < 300 {
            Rgb([220, 0, 0])
        } else {
            Rgb([0, 0, 220])
        }
    });
    let input = images::with_exif_orientation(&images::jpeg(&stored), 6);
    let mut check = JpegDecoder::new(Cursor::new(&input)).unwrap();
    assert_eq!(check.orientation().unwrap(), Orientation::Rotate90);

    let processed = process_default(&input, "image/jpeg").unwrap();

    assert_eq!((processed.width, processed.height), (400, 600));
    let thumb = &processed.variants[0];
    assert_eq!((thumb.width, thumb.height), (85, 128));
    let original = processed.variants.last().unwrap();
    assert_eq!(original.name, "original");
    assert_eq!(decode(original).dimensions(), (400, 600));
    let pixels = decode(thumb).to_rgb8();
    assert!(
        pixels.get_pixel(42, 10)[0] > 180,
        "the top is the red left half"
    );
    assert!(
        pixels.get_pixel(42, 117)[2] > 180,
        "the bottom is the blue right half"
    );
    for variant in &processed.variants {
        let markers = images::jpeg_header_markers(&variant.bytes);
        assert!(
            !markers.contains(&0xE1),
            "{}: APP1 in {markers:x?}",
            variant.name
        );
        let mut decoder = JpegDecoder::new(Cursor::new(&variant.bytes)).unwrap();
        assert_eq!(decoder.exif_metadata().unwrap(), None);
    }
}

#[test]
fn transparency_becomes_white_in_every_accepted_format() {
    // Opaque green on the left, fully transparent on the right.
    let rgba = image::RgbaImage::from_fn(64, 48, |x, _| {
        if x < 32 {
            Rgba([0, 160, 0, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let image = DynamicImage::ImageRgba8(rgba);
    for (format, declared) in [
        (ImageFormat::Png, "image/png"),
        (ImageFormat::Gif, "image/gif"),
        (ImageFormat::WebP, "image/webp"),
    ] {
        let processed = process_default(&images::encode(&image, format), declared)
            .unwrap_or_else(|e| panic!("{declared}: {e}"));

        let thumb = decode(&processed.variants[0]).to_rgb8();
        assert_eq!(thumb.dimensions(), (64, 48), "{declared}");
        let (left, right) = (thumb.get_pixel(8, 24), thumb.get_pixel(56, 24));
        assert!(
            left[1] > 130 && left[0] < 40,
            "{declared}: left is {left:?}"
        );
        assert!(
            right.0.iter().all(|&c| c > 240),
            "{declared}: right is {right:?}"
        );
    }
}

#[test]
fn a_header_claiming_60000_pixels_square_is_refused_before_decoding() {
    let input = images::with_sof_dimensions(&images::jpeg(&images::photo(64, 64)), 60_000, 60_000);

    let err = process_default(&input, "image/jpeg").unwrap_err();

    assert_eq!(
        err,
        ProcessError::TooLarge {
            width: 60_000,
            height: 60_000,
            max_width: 10_000,
            max_height: 10_000
        }
    );
    assert_eq!(err.code(), "IMAGE_TOO_LARGE");
}

#[test]
fn too_many_pixels_are_refused_even_within_width_and_height() {
    let input = images::jpeg(&images::photo(400, 300));

    let err = refused_under(&input, "image/jpeg", |limits| limits.max_pixels = 100_000);

    assert_eq!(err.code(), "IMAGE_TOO_MANY_PIXELS");
    assert!(err.to_string().contains("400×300 = 120000 pixels"), "{err}");
}

#[test]
fn an_upload_over_the_byte_limit_is_refused() {
    let input = images::jpeg(&images::photo(64, 64));

    let err = refused_under(&input, "image/jpeg", |limits| limits.max_input_bytes = 100);

    assert!(
        matches!(err, ProcessError::InputTooLarge { limit: 100, .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), "INPUT_TOO_LARGE");
}

#[test]
fn a_decode_over_the_memory_budget_is_refused() {
    let input = images::encode(&images::photo(600, 600).into(), ImageFormat::Png);

    let err = refused_under(&input, "image/png", |limits| {
        limits.max_decode_alloc_bytes = 1 << 20
    });

    assert_eq!(err.code(), "IMAGE_DECODE_LIMIT");
    assert!(err.to_string().contains("1080000 bytes"), "{err}");
}

#[test]
fn a_truncated_jpeg_is_corrupt() {
    let input = images::jpeg(&images::photo(640, 480));
    // Inside the headers, and halfway through the image data.
    for cut in [200, input.len() / 2] {
        let err = process_default(&input[..cut], "image/jpeg").unwrap_err();

        assert_eq!(err.code(), "IMAGE_CORRUPT", "cut at {cut}: {err}");
        assert!(err.to_string().len() > 40, "a reason is given: {err}");
    }
}

#[test]
fn garbage_and_other_formats_are_unsupported() {
    let mut state = 7_u32;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (state >> 16) as u8
        })
        .collect();
    let err = process_default(&garbage, "image/png").unwrap_err();
    assert_eq!(err, ProcessError::UnsupportedFormat { detected: None });
    assert_eq!(err.code(), "UNSUPPORTED_FORMAT");

    let bmp = b"BM\x36\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0";
    let err = process_default(bmp, "image/bmp").unwrap_err();
    assert_eq!(
        err.to_string(),
        "image/bmp is not an accepted image format (JPEG, PNG, WebP or GIF)"
    );
}

#[test]
fn jpeg_bytes_declared_as_png_are_a_type_mismatch() {
    let input = images::jpeg(&images::photo(64, 64));

    let err = process_default(&input, "image/png").unwrap_err();

    assert_eq!(
        err,
        ProcessError::TypeMismatch {
            declared: "image/png".into(),
            detected: "image/jpeg"
        }
    );
    assert_eq!(err.code(), "CONTENT_TYPE_MISMATCH");
}
