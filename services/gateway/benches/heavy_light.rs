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

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{LIGHT_LOOPS, Phase, light_load, login_flood, serve_gateway};
use futures::future::join_all;
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use platform_kafka::EmbeddedKafka;
use platform_testkit::{TestDatabase, redis_url, unique};
use serde_json::{Value, json};

const LOGIN_LOOPS: usize = 8;
const UPLOADS_AT_ONCE: usize = 4;
const PASSWORD: &str = "correct horse battery";

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

    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the server runtime starts");
    let stack = servers.block_on(Stack::start());
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the client runtime starts");
    let report = client.block_on(run(&stack.base, light_requests, corpus));

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
        stack.worker_threads,
        report.images_per_sec / stack.worker_threads as f64
    );

    drop(client);
    servers.shutdown_timeout(Duration::from_secs(5));
    drop(stack);
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
struct Stack {
    base: String,
    worker_threads: usize,
    storage: PathBuf,
    _databases: Vec<TestDatabase>,
    _kafka: EmbeddedKafka,
}

impl Stack {
    async fn start() -> Self {
        let auth_db = TestDatabase::create(&auth_service::data::MIGRATOR).await;
        let users_eu = TestDatabase::create(&user_service::data::MIGRATOR).await;
        let media_db = TestDatabase::create(&media_service::data::MIGRATOR).await;
        let kafka = EmbeddedKafka::start(platform_kafka::events::TOPICS)
            .expect("the embedded broker starts");
        let brokers = kafka.bootstrap_servers().to_owned();
        let storage = std::env::temp_dir().join(unique("bench-objects-"));

        let media = media_service::Settings::for_tests(media_db.url(), &brokers, &storage);
        let media = media_service::App::build(media)
            .await
            .expect("media starts");
        let media_addr = media.grpc_addr();
        tokio::spawn(media.run_until(std::future::pending()));

        let worker = media_worker::Settings::for_tests(&brokers, &storage);
        let worker_threads = worker.threads;
        let worker = media_worker::App::build(worker)
            .await
            .expect("the worker starts");
        tokio::spawn(worker.run_until(std::future::pending()));

        let user = user_service::Settings::for_tests(
            &[("eu", users_eu.url())],
            &redis_url(),
            &unique("bench:"),
            &brokers,
        )
        .with_media(media_addr);
        let user = user_service::App::build(user).await.expect("user starts");
        let user_addr = user.grpc_addr();
        tokio::spawn(user.run_until(std::future::pending()));

        let auth = auth_service::Settings::for_tests(
            auth_db.url(),
            &redis_url(),
            &unique("bench:"),
            &brokers,
        );
        let auth = auth_service::App::build(auth).await.expect("auth starts");
        let mut gateway = gateway_service::Settings::for_tests(auth.grpc_addr(), user_addr)
            .with_media(media_addr)
            // One client floods: the limits must not be what is measured.
            .with_rate_limits_raised();
        tokio::spawn(auth.run_until(std::future::pending()));
        // Queues are measured, not cut off.
        gateway.auth.request_timeout = Duration::from_secs(120);
        gateway.http.request_timeout = Duration::from_secs(120);
        let base = serve_gateway(gateway).await;

        Self {
            base,
            worker_threads,
            storage,
            _databases: vec![auth_db, users_eu, media_db],
            _kafka: kafka,
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.storage);
    }
}

struct Report {
    baseline: Phase,
    heavy: Phase,
    logins_per_sec: f64,
    images_per_sec: f64,
}

async fn run(base: &str, light_requests: usize, corpus: Vec<Vec<u8>>) -> Report {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("a client");
    let email = format!("{}@example.com", unique("bench"));
    let register =
        json!({"email": email, "password": PASSWORD, "display_name": "Bench", "region": "eu"});
    let registered: Value = client
        .post(format!("{base}/v1/auth/register"))
        .json(&register)
        .send()
        .await
        .expect("the gateway answers")
        .json()
        .await
        .expect("a token pair");
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
    let login = json!({"email": email, "password": PASSWORD});
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
