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

use common::{LIGHT_LOOPS, Phase, light_load, login_flood, serve_gateway};
use platform_kafka::EmbeddedKafka;
use platform_testkit::{TestDatabase, redis_url, unique};
use serde_json::json;

const LOGIN_LOOPS: usize = 32;
const PASSWORD: &str = "correct horse battery";

fn main() {
    let light_requests: usize = std::env::var("BENCH_LIGHT_REQUESTS").map_or(20_000, |v| {
        v.parse().expect("BENCH_LIGHT_REQUESTS is a number")
    });
    assert!(
        light_requests > 0,
        "BENCH_LIGHT_REQUESTS must be at least 1"
    );

    // The servers get their own runtime with 2 workers; the load is driven from this
    // thread's current-thread runtime, so the client never runs on the servers' workers.
    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the server runtime starts");
    let (db, kafka, base) = servers.block_on(start_servers());
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the client runtime starts");
    let (baseline, flood, logins_per_sec) = client.block_on(run(&base, light_requests));

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
    drop(db);
    drop(kafka);
}

/// Auth and the gateway as the integration tests start them, with deadlines long enough
/// that a queue of logins is measured rather than cut off.
async fn start_servers() -> (TestDatabase, EmbeddedKafka, String) {
    let db = TestDatabase::create(&auth_service::data::MIGRATOR).await;
    // Registration publishes an event; nothing consumes it here.
    let kafka =
        EmbeddedKafka::start(platform_kafka::events::TOPICS).expect("the embedded broker starts");
    let auth = auth_service::Settings::for_tests(
        db.url(),
        &redis_url(),
        &unique("bench:"),
        kafka.bootstrap_servers(),
    );
    let auth = auth_service::App::build(auth).await.expect("auth starts");
    // The flood touches only auth; no user service runs here.
    let no_user_service = "127.0.0.1:1".parse().expect("a valid address");
    let mut gateway = gateway_service::Settings::for_tests(auth.grpc_addr(), no_user_service)
        // One client floods: the limits must not be what is measured.
        .with_rate_limits_raised();
    tokio::spawn(auth.run_until(std::future::pending()));
    gateway.auth.request_timeout = Duration::from_secs(120);
    gateway.http.request_timeout = Duration::from_secs(120);
    let base = serve_gateway(gateway).await;
    (db, kafka, base)
}

/// Registers a user, then runs both phases; returns them and the logins/s of the flood.
async fn run(base: &str, light_requests: usize) -> (Phase, Phase, f64) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("a client");
    let email = format!("{}@example.com", unique("bench"));
    let register =
        json!({"email": email, "password": PASSWORD, "display_name": "Bench", "region": "eu"});
    let response = client
        .post(format!("{base}/v1/auth/register"))
        .json(&register)
        .send()
        .await;
    assert_eq!(
        response.expect("the gateway answers").status(),
        201,
        "registration succeeds"
    );

    // Warm the JWKS cache and open the light loops' connections.
    let jwks = format!("{base}/.well-known/jwks.json");
    let never = AtomicBool::new(false);
    light_load(&client, &jwks, LIGHT_LOOPS * 10, &never).await;
    let baseline = light_load(&client, &jwks, light_requests, &never).await;

    let stop = AtomicBool::new(false);
    let logins = AtomicU64::new(0);
    let login = json!({"email": email, "password": PASSWORD});
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
