//! The multi-process native run: any one process killed and restarted, the platform keeps
//! its word.

use std::time::{Duration, Instant};

use platform_testkit::native::{GATEWAY, Layout};

use crate::start;

/// Each service process SIGKILLed in turn, with registrations acknowledged before, during and
/// after; the supervisor restarts it, a restarted consumer gets its partitions back, and every
/// acknowledged registration gets its profile. While auth is down the gateway answers 503
/// problem+json within its upstream deadline instead of hanging. (First, every child is seen
/// to run with glibc's mmap threshold fixed, which the supervisor passes on.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_service_killed_in_turn_comes_back_and_loses_nothing() {
    let mut run = start(Layout::Processes).await;
    // Every child runs with glibc's mmap threshold fixed, as the images do
    // (docs/benchmarks.md, "Memory under load: every service").
    for process in run.services() {
        let environ = std::fs::read(format!("/proc/{}/environ", run.pid_of(&process))).unwrap();
        assert!(
            environ
                .split(|b| *b == 0)
                .any(|var| var == b"MALLOC_MMAP_THRESHOLD_=131072"),
            "{process} runs without MALLOC_MMAP_THRESHOLD_=131072"
        );
    }
    let mut acknowledged = vec![run.register("eu").await];

    for service in ["user", "media-worker", "media", "auth"] {
        let killed = run.kill_process(service);
        if service == "auth" {
            let started = Instant::now();
            let response = run
                .http
                .post(format!("{GATEWAY}/v1/auth/login"))
                .json(&serde_json::json!({"email": "nobody@example.com", "password": "x"}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert!(
                [503, 504].contains(&status) || status == 401,
                "login while auth restarts: {status}"
            );
            if status != 401 {
                assert_eq!(
                    response.headers()["content-type"],
                    "application/problem+json"
                );
            }
            assert!(started.elapsed() < Duration::from_secs(6), "no hang");
        } else {
            // Auth serves: registrations are acknowledged while the consumer is gone.
            acknowledged.push(run.register("us").await);
        }
        run.until_restarted(service, killed).await;
        run.until_ready().await;
        acknowledged.push(run.register("eu").await);
    }
    for account in &acknowledged {
        run.until_profile(account).await;
    }
}

/// The broker process killed, kept down for a while, and started again (empty): registrations
/// acknowledged while it was down, and before, all get their profiles once it is back. (A
/// consumer that backed off on the connection errors of the outage once never rejoined.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_killed_and_restarted_loses_nothing() {
    let mut run = start(Layout::Processes).await;
    let before = run.register("eu").await;
    run.until_profile(&before).await;

    run.hold("broker", true);
    let killed = run.kill_process("broker");
    let during = run.register("us").await;
    // The outage itself: how long the broker stays away, not a wait for a condition.
    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    run.hold("broker", false);
    run.until_restarted("broker", killed).await;
    let after = run.register("eu").await;
    for account in [&before, &during, &after] {
        run.until_profile(account).await;
    }
}
