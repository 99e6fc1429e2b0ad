//! Faults: a worker killed in the middle of a job, and object storage that never answers.

use std::collections::BTreeSet;
use std::time::Duration;

use media_worker::{App, Settings};
use platform_cpu_pool::CpuPool;
use platform_proto::events::v1::media_processed::Outcome;
use platform_storage::StorageSettings;
use tokio::sync::oneshot;
use uuid::Uuid;

use platform_testkit::{PATIENCE, eventually, header, until_some};

use crate::helpers::{spawn_upstream, spawn_worker_with};
use crate::images;

/// A worker on a runtime of its own, in a thread of its own, so the test can kill it the
/// way a crash would: every task stops at its current `.await`, and nothing after it runs
/// (no publish, no offset commit).
struct KillableWorker {
    pool: CpuPool,
    kill: oneshot::Sender<()>,
    dead: oneshot::Receiver<()>,
}

impl KillableWorker {
    async fn start(settings: Settings) -> Self {
        let (started, pool) = oneshot::channel();
        let (kill, killed) = oneshot::channel::<()>();
        let (died, dead) = oneshot::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("the worker's runtime starts");
            runtime.block_on(async move {
                let app = App::build(settings).await.expect("worker A starts");
                let _ = started.send(app.pool().clone());
                tokio::spawn(app.run_until(std::future::pending()));
                let _ = killed.await;
            });
            // The kill. Bounded, because a Kafka client's close can hang on its own thread.
            runtime.shutdown_timeout(Duration::from_secs(2));
            let _ = died.send(());
        });
        let pool = pool.await.expect("worker A started");
        Self { pool, kill, dead }
    }

    async fn kill(self) {
        let _ = self.kill.send(());
        tokio::time::timeout(PATIENCE, self.dead)
            .await
            .expect("worker A dies promptly")
            .expect("worker A's thread did not panic");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_job_leaves_the_job_to_the_next_one_which_completes_it_once() {
    let upstream = spawn_upstream();
    let worker_a = KillableWorker::start(upstream.settings()).await;
    let upload = upstream
        .upload(&images::jpeg(&images::photo(2400, 1600)), "image/jpeg")
        .await;
    eventually("worker A to be processing the image", || {
        let busy = worker_a.pool.in_flight() > 0;
        async move { busy }
    })
    .await;

    worker_a.kill().await;
    assert!(
        upstream.published(&upload.media_id).await.is_empty(),
        "worker A died before publishing"
    );
    // Worker B joins the same group; the upload's offset was never committed, so once the
    // group rebalances (after A's session ends at the latest) B is handed the upload again.
    upstream.spawn_worker().await;
    let outcome = upstream.outcome_of(&upload.media_id).await;

    assert!(
        matches!(outcome.outcome(), Outcome::Ready(_)),
        "{outcome:?}"
    );
    let published = upstream.published(&upload.media_id).await;
    let ids: BTreeSet<Uuid> = published.iter().map(|p| p.event_id).collect();
    assert_eq!(
        ids,
        BTreeSet::from([Uuid::new_v5(&upload.event_id, b"media.processed")])
    );
    assert_eq!(published.len(), 1, "one event, published once");
    let stored = upstream
        .storage
        .list(&format!("variants/{}", upload.media_id))
        .await
        .unwrap();
    let expected: Vec<String> = ["large", "original", "small", "thumb"]
        .iter()
        .map(|name| format!("variants/{}/{name}.jpg", upload.media_id))
        .collect();
    assert_eq!(stored, expected, "each variant stored once");
}

#[tokio::test]
async fn storage_that_never_answers_fails_each_attempt_at_its_deadline_until_the_retry_budget() {
    let upstream = spawn_upstream();
    let mut settings = upstream.settings();
    settings.storage = StorageSettings::from_env(&platform_testkit::silent_s3().await).unwrap();
    // A storage outage is transient: the job is retried (its partition waits) and only a
    // budget, hours in production, ends it.
    settings.kafka.retry_budget = std::time::Duration::from_secs(2);
    let worker = spawn_worker_with(settings).await;

    let upload = upstream.announce("image/jpeg").await;
    let dead = until_some("the upload to be dead-lettered", || async {
        upstream
            .dead_letters(upload.event_id)
            .await
            .into_iter()
            .next()
    })
    .await;

    let error = header(&dead, "dlq-error").unwrap();
    assert!(
        // The job's first read is its kept outcome, if any (`results/<media_id>.pb`).
        error.contains(&format!("get results/{}.pb within 300ms", upload.media_id)),
        "{error}"
    );
    assert!(error.contains("KAFKA_RETRY_BUDGET"), "{error}");
    let attempts: u32 = header(&dead, "dlq-attempts").unwrap().parse().unwrap();
    assert!(
        attempts > 1,
        "retried before the budget ran out ({attempts})"
    );
    assert!(
        upstream.published(&upload.media_id).await.is_empty(),
        "no outcome is published for a job that could not run"
    );
    let readiness = reqwest::get(format!("http://{}/readyz", worker.ops))
        .await
        .unwrap();
    assert_eq!(readiness.status(), 503);
    let report = readiness.text().await.unwrap();
    assert!(report.contains("object-storage"), "{report}");
}
