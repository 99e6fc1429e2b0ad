//! A PNG whose header declares 30000×30000 RGBA (3.6 GB decoded) is refused from its header,
//! without allocating the image.
//!
//! A test binary of its own: the memory check reads the process's peak resident set
//! (`VmHWM`), which other tests running in the same process would disturb.

use std::time::{Duration, Instant};

use media_worker::ProcessError;
use media_worker::service::images::{DEFAULT_VARIANTS, ImageLimits, process};

// Shared with the worker tests, which use the rest of it.
#[allow(dead_code)]
#[path = "worker/images.rs"]
mod images;

/// Peak RSS growth allowed while refusing the bomb. Decoding it would need 3.6 GB.
const RSS_BOUND_BYTES: u64 = 16 << 20;

#[test]
fn a_30000_square_png_is_refused_by_its_header() {
    let bomb = images::png_claiming(30_000, 30_000);
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
    let bomb = images::png_claiming(30_000, 30_000);
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

#[test]
fn the_crc_matches_the_png_specification_example() {
    // The CRC of an IEND chunk is fixed: AE 42 60 82.
    assert_eq!(images::crc32(b"IEND"), 0xAE42_6082);
}
