//! The media service's ops listener: its own memory is on `/metrics`, from the host every
//! service runs in, with no code of the service's.

use crate::helpers::spawn_media;

#[tokio::test]
async fn metrics_show_the_resident_memory_of_the_process() {
    let media = spawn_media().await;
    let metrics = platform_testkit::scrape_metrics(media.ops).await;
    let resident: f64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("process_resident_memory_bytes "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no process_resident_memory_bytes in {metrics}"));
    assert!(resident > 0.0, "{metrics}");
}
