//! Profile reads through the gateway: served from the Redis cache vs from Postgres.
//!
//! `GET /v1/users/{id}` goes gateway → user service (gRPC) → Redis, and to the user's regional
//! Postgres shard on a miss. This starts auth, user and the gateway in-process on a 2-worker
//! runtime, like production on a 2-core machine, and reads profiles from 32 concurrent loops,
//! in two configurations of the user service:
//!
//! - **cache hit**: Redis on loopback, as in production; after the first read every read is a
//!   cache hit.
//! - **Postgres**: Redis unreachable (a refused loopback port), so every read bypasses the
//!   cache and loads the profile from Postgres.
//!
//! and two workloads: every loop reads the same profile (one hot profile), or each loop reads
//! its own (32 profiles). The user service loads one id once however many ask at the same time
//! (single flight), so with one hot profile and Redis down most reads share a query; with 32
//! profiles each read is its own query.
//!
//! Besides the latencies it prints the user service's `profile_cache_lookups_total` during the
//! measured reads, and the transactions the `eu` shard committed over the whole run of each
//! row (setup included: about 30).
//!
//! Run: `cargo bench -p gateway-service --bench profile_reads` (needs Postgres and Redis on
//! loopback, as the tests do). `BENCH_READS` sets the measured reads per row (default 20000).
#![allow(clippy::print_stdout)] // printing the table is this program's job

// Only the platform and its settings: the light loops are the other benches'.
#[allow(dead_code)]
mod common;

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use common::platform::{PlatformBuilder, TestPlatform};
use common::{flooded_by_one_client, runtimes, timed_loops};
use futures::future::join_all;
use platform_testkit::refused_addr;
use sqlx::Connection as _;

const LOOPS: usize = 32;

#[derive(Clone, Copy)]
enum Cache {
    /// Redis on loopback.
    Redis,
    /// Redis refused: every read goes to Postgres.
    Down,
}

fn main() {
    let reads: usize = std::env::var("BENCH_READS")
        .map_or(20_000, |v| v.parse().expect("BENCH_READS is a number"));
    assert!(reads > 0, "BENCH_READS must be at least 1");

    let rows = [
        ("cache hit (Redis up)", Cache::Redis, 1),
        ("cache hit (Redis up)", Cache::Redis, LOOPS),
        ("Postgres (Redis refused)", Cache::Down, 1),
        ("Postgres (Redis refused)", Cache::Down, LOOPS),
    ]
    .map(|(name, cache, profiles)| (name, profiles, measure(cache, profiles, reads)));

    println!(
        "| user service | profiles read | reads | req/s | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | cache hit / miss / bypass | eu shard transactions |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|");
    for (name, profiles, phase) in &rows {
        println!("{}", row(name, *profiles, phase));
    }
}

/// One row: servers on their own 2-worker runtime, load from a current-thread runtime on
/// this thread, so the client never runs on the servers' workers.
fn measure(cache: Cache, profiles: usize, reads: usize) -> Phase {
    let (servers, client) = runtimes();
    let platform = servers.block_on(start_servers(cache));
    let mut phase = client.block_on(run(&platform, profiles, reads));

    // Stop the servers so their Postgres sessions end and report their statistics, then
    // read the shard's count before its database is dropped.
    servers.shutdown_timeout(Duration::from_secs(5));
    phase.shard_transactions = client.block_on(committed_transactions(platform.users_eu.url()));
    drop(client);
    drop(platform);
    phase
}

/// Auth, user and the gateway as the integration tests start them; with [`Cache::Down`], the
/// user service's Redis refuses connections.
async fn start_servers(cache: Cache) -> TestPlatform {
    let redis_down = format!("redis://{}", refused_addr().await);
    PlatformBuilder::new()
        .without_media()
        .tweak(Box::new(move |_, user, gateway| {
            if let Cache::Down = cache {
                user.redis.url = redis_down.into();
            }
            flooded_by_one_client(gateway, false);
        }))
        .start()
        .await
}

/// Registers a reader and `profiles` others, waits for their profiles, warms up, then
/// measures; loop `i` reads profile `i % profiles`.
async fn run(platform: &TestPlatform, profiles: usize, reads: usize) -> Phase {
    let client = &platform.client;
    let reader = platform.register_with_profile("eu").await;
    let token = reader["access_token"].as_str().expect("a token");
    let targets = join_all((0..profiles).map(|_| platform.register_with_profile("eu")));
    let urls: Vec<String> = targets
        .await
        .iter()
        .map(|target| {
            let id = target["user_id"].as_str().expect("a user id");
            format!("{}/v1/users/{id}", platform.base)
        })
        .collect();

    // Creating a profile deletes its cache entry again 2 s later (a read racing the insert
    // may have cached "absent"); let that pass so it does not land in the measured reads.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Fill the cache (when there is one) and open the loops' connections.
    let user_ops = platform.user_ops.expect("the user service runs");
    read_load(client, &urls, token, LOOPS * 10).await;
    let before = cache_lookups(client, user_ops).await;
    let mut phase = read_load(client, &urls, token, reads).await;
    let after = cache_lookups(client, user_ops).await;
    phase.lookups = [0, 1, 2].map(|i| after[i] - before[i]);
    phase
}

/// The measured reads of one row.
#[derive(Default)]
struct Phase {
    /// Each read's latency, sorted.
    latencies: Vec<Duration>,
    elapsed: Duration,
    /// `profile_cache_lookups_total` by result (hit, miss, bypass) during the reads.
    lookups: [u64; 3],
    /// Transactions committed in the `eu` shard over the whole run (setup included).
    shard_transactions: i64,
}

/// `total` authenticated GETs from `LOOPS` concurrent loops, loop `i` reading
/// `urls[i % urls.len()]`, each timed on its own.
async fn read_load(client: &reqwest::Client, urls: &[String], token: &str, total: usize) -> Phase {
    let never = AtomicBool::new(false);
    let (latencies, elapsed) = timed_loops(LOOPS, total, &never, |i| async move {
        let response = client
            .get(&urls[i % urls.len()])
            .bearer_auth(token)
            .send()
            .await
            .expect("the gateway answers");
        assert_eq!(response.status(), 200, "the profile is served");
        response.bytes().await.expect("a profile body");
    })
    .await;
    Phase {
        latencies,
        elapsed,
        ..Phase::default()
    }
}

/// The user service's `profile_cache_lookups_total` for hit, miss and bypass. The metrics
/// recorder is one per process, so only differences between two scrapes mean anything.
async fn cache_lookups(client: &reqwest::Client, ops: SocketAddr) -> [u64; 3] {
    let text = client
        .get(format!("http://{ops}/metrics"))
        .send()
        .await
        .expect("the user service's ops listener answers")
        .text()
        .await
        .expect("a metrics body");
    let count = |result: &str| -> u64 {
        let label = format!("result=\"{result}\"");
        text.lines()
            .filter(|line| {
                line.starts_with("profile_cache_lookups_total{") && line.contains(&label)
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    };
    [count("hit"), count("miss"), count("bypass")]
}

/// `xact_commit` of the database at `url`, once no other session is connected to it (a
/// session reports its statistics as it ends).
async fn committed_transactions(url: &str) -> i64 {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("the shard database accepts a connection");
    for _ in 0..100 {
        let others: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity \
             where datname = current_database() and pid <> pg_backend_pid()",
        )
        .fetch_one(&mut conn)
        .await
        .expect("pg_stat_activity is readable");
        if others == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let committed = sqlx::query_scalar(
        "select xact_commit from pg_stat_database where datname = current_database()",
    )
    .fetch_one(&mut conn)
    .await
    .expect("pg_stat_database is readable");
    conn.close().await.expect("the connection closes");
    committed
}

/// One Markdown table row; percentiles by nearest rank.
fn row(name: &str, profiles: usize, phase: &Phase) -> String {
    let n = phase.latencies.len();
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
    let pct = |p: usize| ms(phase.latencies[(n * p).div_ceil(100).max(1) - 1]);
    let rate = n as f64 / phase.elapsed.as_secs_f64();
    let [hit, miss, bypass] = phase.lookups;
    format!(
        "| {name} | {profiles} | {n} | {rate:.0} | {} | {} | {} | {} | {hit} / {miss} / {bypass} | {} |",
        pct(50),
        pct(90),
        pct(99),
        ms(phase.latencies[n - 1]),
        phase.shard_transactions,
    )
}
