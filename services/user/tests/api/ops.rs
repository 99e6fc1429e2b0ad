//! What operators see of the user service: its pools in `/metrics`.

use std::time::Duration;

use crate::helpers::spawn_user;

#[tokio::test]
async fn every_shard_pool_is_reported_with_its_connections_in_use_idle_and_maximum() {
    let user = spawn_user().await;
    let wanted = [
        r#"db_pool_max_connections{database="user_eu"} 10"#,
        r#"db_pool_max_connections{database="user_us"} 10"#,
        r#"db_pool_connections{database="user_eu",state="in_use"}"#,
        r#"db_pool_connections{database="user_eu",state="idle"}"#,
    ];
    // The gauges are sampled every 5 s; the first sample is taken at start.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let metrics = platform_testkit::scrape_metrics(user.ops).await;
        let missing: Vec<_> = wanted.iter().filter(|w| !metrics.contains(*w)).collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "missing {missing:?} in\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
