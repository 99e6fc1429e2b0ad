//! Throughput and latency of the image pipeline on the worker's pool with one thread per core.
//!
//! `cargo bench -p media-worker --bench process` generates photo-like 2400×1600 JPEGs
//! (gradients, shapes and sensor-like noise, quality 90) in memory, processes each
//! `BENCH_ROUNDS` times (default 5) into the default variants, with every image submitted at
//! once so the pool stays saturated, and prints images/s, images/s per core and the p50/p99
//! time one image spends on a worker. A serial pass first gives the uncontended cost of one
//! image and its decoding share. Run it on an otherwise idle machine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use media_worker::service::images::{self, DEFAULT_VARIANTS, ImageLimits, process};
use platform_cpu_pool::CpuPool;

const IMAGES: usize = 20;
const WIDTH: u32 = 2400;
const HEIGHT: u32 = 1600;

fn main() {
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let started = Instant::now();
    let corpus: Vec<Arc<[u8]>> = (0..IMAGES as u32)
        .map(|seed| photo_jpeg(seed).into())
        .collect();
    let mean_input = corpus.iter().map(|c| c.len()).sum::<usize>() / IMAGES;
    println!(
        "corpus: {IMAGES} JPEGs of {WIDTH}x{HEIGHT}, {} KiB on average, made in {:.1?}",
        mean_input / 1024,
        started.elapsed()
    );

    // One image at a time on this thread: the cost of one image without contention, and how
    // much of it is decoding the source.
    let limits = ImageLimits::default();
    let (mut decode, mut whole) = (Duration::ZERO, Duration::ZERO);
    for input in &corpus {
        let started = Instant::now();
        image::load_from_memory(input).expect("the corpus decodes");
        decode += started.elapsed();
        let started = Instant::now();
        process(input, "image/jpeg", &limits, DEFAULT_VARIANTS).expect("the corpus is valid");
        whole += started.elapsed();
    }
    println!(
        "serial, one thread: {:.1?} per image, of which decoding the source {:.1?}",
        whole / IMAGES as u32,
        decode / IMAGES as u32
    );

    let pool = images::start_pool(platform_cpu_pool::default_threads())
        .expect("the OS starts the pool's threads");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime starts");

    // Warm-up: page in code and let the allocator settle.
    runtime.block_on(run_all(&pool, &corpus, 1));

    let started = Instant::now();
    let (mut latencies, output_bytes) = runtime.block_on(run_all(&pool, &corpus, rounds));
    let wall = started.elapsed();

    latencies.sort();
    let n = latencies.len();
    let per_second = n as f64 / wall.as_secs_f64();
    println!(
        "{n} images on {} threads in {wall:.2?}: {per_second:.1} images/s, {:.1} images/s/core",
        pool.threads(),
        per_second / pool.threads() as f64
    );
    println!(
        "per image on a worker: p50 {:.1?}, p99 {:.1?}, max {:.1?}",
        percentile(&latencies, 50),
        percentile(&latencies, 99),
        latencies[n - 1]
    );
    println!(
        "output: {} KiB of variants per image on average",
        output_bytes / n / 1024
    );
}

/// Submits every image `rounds` times at once; returns each job's time on a worker and the
/// total bytes of variants produced.
async fn run_all(pool: &CpuPool, corpus: &[Arc<[u8]>], rounds: usize) -> (Vec<Duration>, usize) {
    let limits = Arc::new(ImageLimits::default());
    let mut tasks = tokio::task::JoinSet::new();
    for input in corpus.iter().cycle().take(corpus.len() * rounds) {
        let (pool, input, limits) = (pool.clone(), Arc::clone(input), Arc::clone(&limits));
        tasks.spawn(async move {
            pool.run(move |_| {
                let started = Instant::now();
                let processed = process(&input, "image/jpeg", &limits, DEFAULT_VARIANTS)
                    .expect("the corpus is valid");
                let bytes: usize = processed.variants.iter().map(|v| v.bytes.len()).sum();
                (started.elapsed(), bytes)
            })
            .await
            .unwrap_or_else(|panicked| panicked.resume())
        });
    }
    let results = tasks.join_all().await;
    let bytes = results.iter().map(|(_, b)| b).sum();
    (results.into_iter().map(|(d, _)| d).collect(), bytes)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// A photo-like image: smooth gradients, a few soft discs and ±12 levels of noise.
fn photo_jpeg(seed: u32) -> Vec<u8> {
    let mut rng = 0x9E37_79B9_u32 ^ seed.wrapping_mul(0x85EB_CA6B);
    let discs: Vec<(f32, f32, f32)> = (0..6)
        .map(|_| {
            let x = (xorshift(&mut rng) % WIDTH) as f32;
            let y = (xorshift(&mut rng) % HEIGHT) as f32;
            (x, y, 100.0 + (xorshift(&mut rng) % 400) as f32)
        })
        .collect();
    let image = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let (fx, fy) = (x as f32 / WIDTH as f32, y as f32 / HEIGHT as f32);
        let lift: f32 = discs
            .iter()
            .map(|&(cx, cy, r)| {
                let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                (1.0 - d / r).clamp(0.0, 1.0) * 60.0
            })
            .sum();
        let noise = (xorshift(&mut rng) % 25) as f32 - 12.0;
        let channel = |base: f32| (base + lift + noise).clamp(0.0, 255.0) as u8;
        Rgb([
            channel(40.0 + 160.0 * fx),
            channel(60.0 + 120.0 * fy),
            channel(180.0 - 100.0 * fx * fy + seed as f32),
        ])
    });
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, 90)
        .encode_image(&image)
        .expect("encoding to memory succeeds");
    bytes
}

fn xorshift(state: &mut u32) -> u32 {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    *state
}
