//! The recorder's memory in a process nobody scrapes. A test binary of its own: the recorder
//! is process-wide and the measure is the process's resident memory, which no other test
//! may disturb.

use platform_runtime::{Readiness, RuntimeSettings, ServiceHost};

/// Samples recorded between two upkeeps; a sample waiting for upkeep takes at least 8 bytes.
const SAMPLES_PER_ROUND: u32 = 1_000_000;
const ROUNDS: u32 = 10;

/// Resident memory of this process in bytes (Linux).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse().ok())
        .expect("a VmRSS line in kB");
    kib * 1024
}

fn record_round(histogram: &metrics::Histogram) {
    for i in 0..SAMPLES_PER_ROUND {
        histogram.record(f64::from(i % 1000) / 1000.0);
    }
}

/// Time passes (paused, so at once) as it would in a pod between two scrapes that never come.
async fn let_upkeep_run() {
    tokio::time::sleep(platform_runtime::metrics::UPKEEP_EVERY * 2).await;
}

#[tokio::test(start_paused = true)]
async fn histogram_memory_stays_bounded_in_a_process_nobody_scrapes() {
    let _host = ServiceHost::start(&RuntimeSettings::for_tests(), Readiness::new())
        .await
        .unwrap();
    let latency = metrics::histogram!("upkeep_test_duration_seconds");
    // The first round sizes the allocator's free lists; later rounds can reuse them.
    record_round(&latency);
    let_upkeep_run().await;
    let before = resident_bytes();
    for _ in 0..ROUNDS {
        record_round(&latency);
        let_upkeep_run().await;
    }
    let grown = resident_bytes().saturating_sub(before);

    // Kept until scraped, the samples alone would take ROUNDS * SAMPLES_PER_ROUND * 8 bytes
    // (76 MB, twice that with the recorder's blocks); folded into buckets at each upkeep, at
    // most a round or two of them is resident at once.
    let unbounded = u64::from(ROUNDS * SAMPLES_PER_ROUND) * 8;
    assert!(
        grown < unbounded / 4,
        "resident memory grew by {} MB over {ROUNDS} rounds; the samples alone take {} MB",
        grown >> 20,
        unbounded >> 20
    );
    // The samples were not lost: they are in the buckets.
    let rendered = platform_runtime::metrics::handle().render();
    let expected = u64::from((ROUNDS + 1) * SAMPLES_PER_ROUND);
    assert!(
        rendered.contains(&format!("upkeep_test_duration_seconds_count {expected}")),
        "{rendered}"
    );
}
