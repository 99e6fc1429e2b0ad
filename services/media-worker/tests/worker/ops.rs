//! The ops port: readiness checks the store; metrics count jobs and show the pool.

use crate::helpers::spawn_upstream;
use crate::images;

#[tokio::test]
async fn the_ops_port_reports_the_store_ready_and_counts_jobs_by_outcome() {
    let upstream = spawn_upstream();
    let worker = upstream.spawn_worker().await;
    let upload = upstream
        .upload(&images::jpeg(&images::photo(64, 48)), "image/jpeg")
        .await;
    upstream.outcome_of(&upload.media_id).await;

    let readiness = reqwest::get(format!("http://{}/readyz", worker.ops))
        .await
        .unwrap();
    assert_eq!(readiness.status(), 200);
    assert!(
        readiness
            .text()
            .await
            .unwrap()
            .contains(r#""object-storage":"ok""#)
    );

    let metrics = platform_testkit::scrape_metrics(worker.ops).await;
    for line in [
        r#"media_worker_jobs_total{outcome="ready"}"#,
        r#"media_worker_job_seconds_count{outcome="ready"}"#,
        "media_worker_pool_in_flight 0",
    ] {
        assert!(metrics.contains(line), "no {line} in\n{metrics}");
    }
}
