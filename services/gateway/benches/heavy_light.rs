//! The heavy-task/light-task experiment: light requests through the gateway while the media
//! worker processes a batch of large images and users log in (DESIGN §9: light requests keep
//! p99 under 50 ms while image processing and logins saturate the CPU).
//!
//! Every service runs in this process, as the native run does: auth, user, media and the
//! gateway on one tokio runtime with 2 workers, the media worker's CPU pool on threads of its
//! own (one per core), password hashing on auth's bounded pool. The load is driven from a
//! separate current-thread runtime, so the client never runs on the servers' workers.
//!
//! - **baseline:** `BENCH_LIGHT_REQUESTS` (default 20000) light requests, `GET
//!   /.well-known/jwks.json` (served from the gateway's JWKS cache), from 8 loops.
//! - **heavy:** `BENCH_IMAGES` (default 24) generated 2400×1600 photo-like JPEGs are uploaded
//!   through `POST /v1/media` while 8 loops log in non-stop; the light loops run from the first
//!   upload until the last image is `ready`. Worker throughput is images / (first upload
//!   accepted → last image ready).
//!
//! Run: `cargo bench -p gateway-service --bench heavy_light` (needs Postgres and Redis on
//! loopback, as the tests do).
#![allow(clippy::print_stdout)] // printing the table is this program's job

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::platform::{PlatformBuilder, TestPlatform};
use common::{LIGHT_LOOPS, Phase, flooded_by_one_client, light_load, login_flood, runtimes};
use futures::future::join_all;
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use serde_json::{Value, json};

const LOGIN_LOOPS: usize = 8;
const UPLOADS_AT_ONCE: usize = 4;

fn main() {
    let light_requests = number_from_env("BENCH_LIGHT_REQUESTS", 20_000);
    let images = number_from_env("BENCH_IMAGES", 24);

    let started = Instant::now();
    let corpus: Vec<Vec<u8>> = (0..images).map(|seed| photo(seed as u32)).collect();
    let mean_kib = corpus.iter().map(Vec::len).sum::<usize>() / images / 1024;
    println!(
        "corpus: {images} JPEGs of 2400x1600, {mean_kib} KiB on average, made in {:.1?}",
        started.elapsed()
    );

    let (servers, client) = runtimes();
    let platform = servers.block_on(start_servers());
    let report = client.block_on(run(&platform, light_requests, corpus));
    let worker_threads = platform
        .media
        .as_ref()
        .expect("media and the worker run")
        .worker_threads;

    println!(
        "| phase | light requests | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | light req/s | logins/s | images/s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!("{}", row("baseline", &report.baseline, None, None));
    println!(
        "{}",
        row(
            &format!("{images} images + {LOGIN_LOOPS} login loops"),
            &report.heavy,
            Some(report.logins_per_sec),
            Some(report.images_per_sec),
        )
    );
    println!(
        "worker: {:.2} images/s on {} pool threads = {:.2} images/s per core, while sharing the cores",
        report.images_per_sec,
        worker_threads,
        report.images_per_sec / worker_threads as f64
    );

    drop(client);
    servers.shutdown_timeout(Duration::from_secs(5));
    drop(platform);
}

fn number_from_env(name: &str, default: usize) -> usize {
    let value = std::env::var(name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} must be a number"))
    });
    assert!(value > 0, "{name} must be at least 1");
    value
}

/// Every service of the platform, started as the integration tests start them.
async fn start_servers() -> TestPlatform {
    PlatformBuilder::new()
        .tweak(Box::new(|_, _, gateway| {
            flooded_by_one_client(gateway, true)
        }))
        .start()
        .await
}

struct Report {
    baseline: Phase,
    heavy: Phase,
    logins_per_sec: f64,
    images_per_sec: f64,
}

async fn run(platform: &TestPlatform, light_requests: usize, corpus: Vec<Vec<u8>>) -> Report {
    let client = common::client(Duration::from_secs(300));
    let base = platform.base.as_str();
    let (email, password, registered) = platform.register("eu").await;
    let token = registered["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();

    let jwks = format!("{base}/.well-known/jwks.json");
    let never = AtomicBool::new(false);
    light_load(&client, &jwks, LIGHT_LOOPS * 10, &never).await; // warm-up
    let baseline = light_load(&client, &jwks, light_requests, &never).await;

    let done = AtomicBool::new(false);
    let logins = AtomicU64::new(0);
    let login = json!({"email": email, "password": password});
    let login_loops = login_flood(&client, base, &login, LOGIN_LOOPS, &done, &logins);
    let images = corpus.len();
    let processing = async {
        let started = Instant::now();
        let ids = upload_all(&client, base, &token, corpus).await;
        wait_until_ready(&client, base, &token, &ids).await;
        let elapsed = started.elapsed();
        let logins_done = logins.load(Ordering::Relaxed);
        done.store(true, Ordering::Relaxed);
        (elapsed, logins_done)
    };
    let light = light_load(&client, &jwks, usize::MAX, &done);
    let (_, (elapsed, logins_done), heavy) = tokio::join!(login_loops, processing, light);
    Report {
        baseline,
        heavy,
        logins_per_sec: logins_done as f64 / elapsed.as_secs_f64(),
        images_per_sec: images as f64 / elapsed.as_secs_f64(),
    }
}

/// Uploads the corpus, `UPLOADS_AT_ONCE` at a time; returns the media ids.
async fn upload_all(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    corpus: Vec<Vec<u8>>,
) -> Vec<String> {
    let url = format!("{base}/v1/media");
    let mut ids = Vec::with_capacity(corpus.len());
    for batch in corpus.chunks(UPLOADS_AT_ONCE) {
        let uploads = batch.iter().map(|bytes| async {
            let response = client
                .post(&url)
                .bearer_auth(token)
                .header("content-type", "image/jpeg")
                .body(bytes.clone())
                .send()
                .await
                .expect("the gateway answers");
            assert_eq!(response.status(), 202, "the upload is accepted");
            let body: Value = response.json().await.expect("a media body");
            body["id"].as_str().expect("a media id").to_owned()
        });
        ids.extend(join_all(uploads).await);
    }
    ids
}

/// Polls every media until it is `ready` (a `failed` one stops the benchmark).
async fn wait_until_ready(client: &reqwest::Client, base: &str, token: &str, ids: &[String]) {
    let mut pending: Vec<&String> = ids.iter().collect();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for id in pending {
            let media: Value = client
                .get(format!("{base}/v1/media/{id}"))
                .bearer_auth(token)
                .send()
                .await
                .expect("the gateway answers")
                .json()
                .await
                .expect("a media body");
            match media["status"].as_str() {
                Some("ready") => {}
                Some("failed") => panic!("media {id} failed: {}", media["error"]),
                _ => still.push(id),
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// One Markdown row.
fn row(name: &str, phase: &Phase, logins: Option<f64>, images: Option<f64>) -> String {
    let or_dash = |v: Option<f64>| v.map_or("–".to_owned(), |r| format!("{r:.1}"));
    format!(
        "| {name} | {} | {} | {} |",
        phase.cells(),
        or_dash(logins),
        or_dash(images)
    )
}

/// A 2400×1600 JPEG (quality 90) that costs what a photo costs to decode: smooth light, a few
/// hard edges, and per-pixel noise that defeats the encoder's easy cases.
fn photo(seed: u32) -> Vec<u8> {
    let (width, height) = (2400, 1600);
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    let image = RgbImage::from_fn(width, height, |x, y| {
        // xorshift32: cheap noise, different per image.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 24) as u8;
        let band = u8::from((x / 300 + y / 200 + seed).is_multiple_of(2)) * 60;
        Rgb([
            ((x * 200 / width) as u8).saturating_add(noise),
            ((y * 180 / height) as u8).saturating_add(band / 2),
            (120 + band).saturating_add(noise / 2),
        ])
    });
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, 90)
        .encode_image(&image)
        .expect("encoding a generated image");
    bytes
}
