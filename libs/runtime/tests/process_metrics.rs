//! Every service exports its own memory: a host started the way every service starts has
//! the process gauges on its `/metrics` at the first scrape, with no code of the service's.

use platform_runtime::process::{MEMORY_LIMIT, RESIDENT_MEMORY, memory_limit};
use platform_runtime::{Readiness, RuntimeSettings, ServiceHost};

/// The value of the unlabelled sample `name` in a Prometheus text exposition.
fn sample(rendered: &str, name: &str) -> Option<f64> {
    rendered.lines().find_map(|line| {
        let value = line.strip_prefix(name)?.strip_prefix(' ')?;
        value.trim().parse().ok()
    })
}

#[tokio::test]
async fn the_ops_listener_shows_the_resident_memory_and_the_limit_there_is() {
    let host = ServiceHost::start(&RuntimeSettings::for_tests(), Readiness::new())
        .await
        .unwrap();

    let rendered = platform_testkit::scrape_metrics(host.ops_addr()).await;

    let resident = sample(&rendered, RESIDENT_MEMORY).expect(RESIDENT_MEMORY);
    assert!(resident > 0.0, "{rendered}");
    // Absent when the cgroup has no limit (as on most development machines), the limit in
    // bytes otherwise.
    assert_eq!(
        sample(&rendered, MEMORY_LIMIT),
        memory_limit().map(|bytes| bytes as f64),
        "{rendered}"
    );
}
