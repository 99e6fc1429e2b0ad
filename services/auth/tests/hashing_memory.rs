//! Resident memory of password hashing stays bounded by the pool's concurrency (issue 17).
//!
//! A binary of its own, so nothing else in the process allocates while RSS is read. Before
//! each hash reused its argon2 memory, glibc kept the freed 19 MiB blocks in its heap
//! arenas (one per thread that had hashed), and auth grew past its 256 Mi limit under a
//! login flood and never shrank.
#![cfg(target_os = "linux")]

use auth_service::service::Passwords;
use platform_config::SecretString;

const CONCURRENCY: usize = 2;
const HASHES: usize = 64;
const BLOCK_MIB: u64 = 19;
const SLACK_MIB: u64 = 16;

/// This process's resident set in KiB, from the kernel's own accounting.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs is mounted");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS is in /proc/self/status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashing_memory_stays_bounded_by_the_pool_concurrency() {
    let before = rss_kib();
    let passwords = std::sync::Arc::new(Passwords::new(CONCURRENCY).unwrap());

    let mut hashes = tokio::task::JoinSet::new();
    for i in 0..HASHES {
        let passwords = passwords.clone();
        let password = SecretString::from(format!("password number {i}"));
        hashes.spawn(async move { passwords.hash(password).await.unwrap() });
    }
    let mut peak = 0;
    while let Some(hash) = hashes.join_next().await {
        assert!(hash.unwrap().starts_with("$argon2id$"));
        peak = peak.max(rss_kib());
    }
    let after = rss_kib();

    let bound = (CONCURRENCY as u64 * BLOCK_MIB + SLACK_MIB) * 1024;
    let (grown, peak_grown) = (after.saturating_sub(before), peak.saturating_sub(before));
    println!("RSS before {before} KiB, peak +{peak_grown} KiB, after +{grown} KiB");
    assert!(
        peak_grown <= bound && grown <= bound,
        "RSS grew by {peak_grown} KiB at the peak and {grown} KiB after {HASHES} hashes; \
         at most {bound} KiB expected ({CONCURRENCY} × {BLOCK_MIB} MiB + {SLACK_MIB} MiB)"
    );
}
