//! Light-request latency through the gateway, with and without a login flood.
//!
//! Argon2id hashing in auth runs on a bounded blocking pool, never on the async runtime's
//! workers, so cheap requests should stay fast while logins saturate the CPU (target: p99
//! under 50 ms on 2 cores). This starts auth and the gateway in-process on a 2-worker
//! runtime, like production on a 2-core machine, and measures `GET /.well-known/jwks.json`
//! (served from the gateway's cache) alone, then while 32 loops log in non-stop.
//!
//! Run: `cargo bench -p gateway-service --bench login_flood` (needs Postgres and Redis on
//! loopback, as the tests do). `BENCH_LIGHT_REQUESTS` sets the light requests per phase
//! (default 20000).
#![allow(clippy::print_stdout)] // printing the table is this program's job

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::platform::{PlatformBuilder, TestPlatform};
use common::{LIGHT_LOOPS, Phase, flooded_by_one_client, light_load, login_flood, runtimes};
use serde_json::json;

const LOGIN_LOOPS: usize = 32;

fn main() {
    let light_requests: usize = std::env::var("BENCH_LIGHT_REQUESTS").map_or(20_000, |v| {
        v.parse().expect("BENCH_LIGHT_REQUESTS is a number")
    });
    assert!(
        light_requests > 0,
        "BENCH_LIGHT_REQUESTS must be at least 1"
    );

    let (servers, client) = runtimes();
    let platform = servers.block_on(start_servers());
    let (baseline, flood, logins_per_sec) = client.block_on(run(&platform, light_requests));

    println!(
        "| phase | light requests | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | light req/s | logins/s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    println!("{}", row("baseline", &baseline, None));
    let flood_name = format!("login flood ({LOGIN_LOOPS} loops)");
    println!("{}", row(&flood_name, &flood, Some(logins_per_sec)));

    // Stop the servers before dropping their database.
    drop(client);
    servers.shutdown_timeout(Duration::from_secs(5));
    drop(platform);
}

/// Auth and the gateway as the integration tests start them (the flood touches only auth),
/// with deadlines long enough that a queue of logins is measured rather than cut off.
async fn start_servers() -> TestPlatform {
    PlatformBuilder::new()
        .without_user()
        .without_media()
        .tweak(Box::new(|_, _, gateway| {
            flooded_by_one_client(gateway, true)
        }))
        .start()
        .await
}

/// Registers a user, then runs both phases; returns them and the logins/s of the flood.
async fn run(platform: &TestPlatform, light_requests: usize) -> (Phase, Phase, f64) {
    let client = common::client(Duration::from_secs(120));
    let base = platform.base.as_str();
    let (email, password, _) = platform.register("eu").await;

    // Warm the JWKS cache and open the light loops' connections.
    let jwks = format!("{base}/.well-known/jwks.json");
    let never = AtomicBool::new(false);
    light_load(&client, &jwks, LIGHT_LOOPS * 10, &never).await;
    let baseline = light_load(&client, &jwks, light_requests, &never).await;

    let stop = AtomicBool::new(false);
    let logins = AtomicU64::new(0);
    let login = json!({"email": email, "password": password});
    let flood = login_flood(&client, base, &login, LOGIN_LOOPS, &stop, &logins);
    let measured = async {
        // Start measuring once logins complete, i.e. auth's hashing pool is busy.
        while logins.load(Ordering::Relaxed) < LOGIN_LOOPS as u64 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (before, started) = (logins.load(Ordering::Relaxed), Instant::now());
        let phase = light_load(&client, &jwks, light_requests, &never).await;
        let done = logins.load(Ordering::Relaxed) - before;
        stop.store(true, Ordering::Relaxed);
        (phase, done as f64 / started.elapsed().as_secs_f64())
    };
    let (_, (flooded, logins_per_sec)) = tokio::join!(flood, measured);
    (baseline, flooded, logins_per_sec)
}

/// One Markdown table row.
fn row(name: &str, phase: &Phase, logins_per_sec: Option<f64>) -> String {
    let logins = logins_per_sec.map_or("–".to_owned(), |r| format!("{r:.1}"));
    format!("| {name} | {} | {logins} |", phase.cells())
}
