//! The image every upload sends: a small, valid PNG, different for each upload.

/// A 32×32 RGB PNG whose colours come from `n`, so no two uploads of a run are the same bytes.
///
/// ```
/// let png = platform_loadgen::tiny_png(7);
/// assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
/// assert_ne!(png, platform_loadgen::tiny_png(8));
/// ```
pub fn tiny_png(n: u64) -> Vec<u8> {
    const SIDE: u32 = 32;
    let [r, g, b, ..] = n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes();
    let mut pixels = Vec::with_capacity((SIDE * SIDE * 3) as usize);
    for y in 0..SIDE {
        for x in 0..SIDE {
            // A gradient over a per-upload base colour; `as u8` keeps the low byte on purpose.
            pixels.extend_from_slice(&[
                r.wrapping_add((x * 8) as u8),
                g.wrapping_add((y * 8) as u8),
                b,
            ]);
        }
    }
    encode(SIDE, SIDE, &pixels)
}

/// A `width`×`height` RGB PNG of pseudo-random noise from `seed`: it compresses badly, so it
/// is large and slow to decode and resize, as a photo is (the fault suite kills the media
/// worker halfway through one).
///
/// ```
/// let png = platform_loadgen::noisy_png(64, 48, 1);
/// assert!(png.len() > 64 * 48 * 3 / 2, "noise barely compresses");
/// ```
pub fn noisy_png(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut pixels = Vec::with_capacity((width * height * 3) as usize);
    for _ in 0..width * height {
        // xorshift64: cheap noise, reproducible from the seed.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let [r, g, b, ..] = state.to_le_bytes();
        pixels.extend_from_slice(&[r, g, b]);
    }
    encode(width, height, &pixels)
}

fn encode(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Writing into a Vec cannot fail, and the pixel buffer matches the header by construction.
    let mut writer = encoder.write_header().expect("PNG header into a Vec");
    writer
        .write_image_data(pixels)
        .expect("the RGB pixels match the header");
    writer.finish().expect("PNG end into a Vec");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_png_decodes_to_32_by_32_rgb() {
        let bytes = super::tiny_png(42);
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("a valid PNG header");
        let mut pixels = vec![0; reader.output_buffer_size().expect("a small image")];
        let frame = reader.next_frame(&mut pixels).expect("valid image data");
        assert_eq!((frame.width, frame.height), (32, 32));
        assert_eq!(frame.color_type, png::ColorType::Rgb);
    }
}
