//! A PNG whose header declares 30000×30000 RGBA (3.6 GB decoded) is refused from its header,
//! without allocating the image.
//!
//! A test binary of its own: the memory check reads the process's peak resident set
//! (`VmHWM`), which other tests running in the same process would disturb.

use std::time::{Duration, Instant};

use media_worker::{DEFAULT_VARIANTS, ImageLimits, ProcessError, process};

/// Peak RSS growth allowed while refusing the bomb. Decoding it would need 3.6 GB.
const RSS_BOUND_BYTES: u64 = 16 << 20;

#[test]
fn a_30000_square_png_is_refused_by_its_header() {
    let bomb = png_claiming(30_000, 30_000);
    let (result, elapsed, rss_growth) = measured(|| {
        process(
            &bomb,
            "image/png",
            &ImageLimits::default(),
            DEFAULT_VARIANTS,
        )
    });

    assert_eq!(
        result.unwrap_err(),
        ProcessError::TooLarge {
            width: 30_000,
            height: 30_000,
            max_width: 10_000,
            max_height: 10_000
        }
    );
    assert!(elapsed < Duration::from_millis(500), "took {elapsed:?}");
    assert!(
        rss_growth < RSS_BOUND_BYTES,
        "peak RSS grew by {rss_growth} bytes"
    );
}

#[test]
fn with_dimension_limits_raised_the_memory_budget_still_refuses_it() {
    let bomb = png_claiming(30_000, 30_000);
    let limits = ImageLimits {
        max_width: 65_535,
        max_height: 65_535,
        max_pixels: u64::MAX,
        ..ImageLimits::default()
    };
    let (result, elapsed, rss_growth) =
        measured(|| process(&bomb, "image/png", &limits, DEFAULT_VARIANTS));

    let err = result.unwrap_err();
    assert_eq!(err.code(), "IMAGE_DECODE_LIMIT", "{err}");
    assert!(err.to_string().contains("3600000000 bytes"), "{err}");
    assert!(elapsed < Duration::from_millis(500), "took {elapsed:?}");
    assert!(
        rss_growth < RSS_BOUND_BYTES,
        "peak RSS grew by {rss_growth} bytes"
    );
}

fn measured<T>(f: impl FnOnce() -> T) -> (T, Duration, u64) {
    let before = peak_rss_bytes();
    let started = Instant::now();
    let result = f();
    let elapsed = started.elapsed();
    (result, elapsed, peak_rss_bytes().saturating_sub(before))
}

/// `VmHWM` from /proc/self/status: the most memory this process has had resident.
fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc is mounted");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("/proc/self/status has VmHWM");
    kib * 1024
}

/// A valid PNG header for an 8-bit RGBA image of `width`×`height`, one tiny IDAT (an empty
/// zlib stream) and IEND: enough for any decoder to read the dimensions.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // depth 8, RGBA, deflate, no filter, no interlace

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (b"IHDR", ihdr.as_slice()),
        (b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]),
        (b"IEND", &[]),
    ] {
        png.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        let crc = crc32(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }
    png
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) over a chunk's type and data, as
/// PNG requires (<https://www.w3.org/TR/png-3/#5CRC-algorithm>). Bitwise: the inputs are tiny.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn the_crc_matches_the_png_specification_example() {
    // The CRC of an IEND chunk is fixed: AE 42 60 82.
    assert_eq!(crc32(b"IEND"), 0xAE42_6082);
}
