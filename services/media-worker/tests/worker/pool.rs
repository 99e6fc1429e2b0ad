use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use media_worker::CpuPool;
use tracing::Instrument as _;

/// Jobs that block until the `Sender` is dropped, so a test decides when they end.
fn gate() -> (Sender<()>, Arc<Mutex<Receiver<()>>>) {
    let (open, wait) = channel();
    (open, Arc::new(Mutex::new(wait)))
}

fn blocked_job(
    gate: &Arc<Mutex<Receiver<()>>>,
    started: &Arc<AtomicUsize>,
) -> impl FnOnce() + Send + 'static {
    let (gate, started) = (Arc::clone(gate), Arc::clone(started));
    move || {
        started.fetch_add(1, Ordering::SeqCst);
        let _ = gate.lock().unwrap().recv();
    }
}

/// Polls `condition` for up to 5 s: the pool's threads are real, so time is too.
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn at_most_n_jobs_run_at_once_and_a_burst_all_completes() {
    let pool = CpuPool::new(3);
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));

    let mut callers = tokio::task::JoinSet::new();
    for i in 0..40 {
        let (pool, running, most) = (pool.clone(), Arc::clone(&running), Arc::clone(&most));
        callers.spawn(async move {
            pool.run(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                running.fetch_sub(1, Ordering::SeqCst);
                i
            })
            .await
        });
    }
    let mut done = callers.join_all().await;

    done.sort_unstable();
    assert_eq!(done, (0..40).collect::<Vec<_>>());
    assert_eq!(most.load(Ordering::SeqCst), 3);
    assert_eq!(pool.in_flight(), 0);
}

#[tokio::test]
async fn callers_beyond_the_queue_wait_for_a_slot() {
    let pool = CpuPool::new(1); // one running, one queued
    let (open, gate) = gate();
    let started = Arc::new(AtomicUsize::new(0));

    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..3 {
        let (pool, job) = (pool.clone(), blocked_job(&gate, &started));
        callers.spawn(async move { pool.run(job).await });
    }
    eventually("the pool is full", || pool.in_flight() == 2).await;
    tokio::time::sleep(Duration::from_millis(50)).await;

    assert_eq!(pool.in_flight(), 2, "the third caller is not queued");
    assert_eq!(started.load(Ordering::SeqCst), 1);
    drop(open);
    assert_eq!(callers.join_all().await.len(), 3);
    assert_eq!(started.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_caller_that_gives_up_keeps_its_slot_until_the_job_ends() {
    let pool = CpuPool::new(1);
    let (open, gate) = gate();
    let started = Arc::new(AtomicUsize::new(0));

    let gave_up = tokio::time::timeout(
        Duration::from_millis(20),
        pool.run(blocked_job(&gate, &started)),
    )
    .await;

    assert!(gave_up.is_err());
    assert_eq!(pool.in_flight(), 1, "the abandoned job still runs");
    drop(open);
    eventually("the slot is free", || pool.in_flight() == 0).await;
    assert_eq!(pool.run(|| 7).await, 7);
}

#[tokio::test]
async fn a_panicking_job_panics_its_caller_and_the_pool_survives() {
    let pool = CpuPool::new(1);

    let caller = {
        let pool = pool.clone();
        tokio::spawn(async move { pool.run(|| -> u8 { panic!("bad pixels") }).await })
    };
    let panic = caller.await.unwrap_err().into_panic();

    assert_eq!(panic.downcast_ref::<&str>(), Some(&"bad pixels"));
    assert_eq!(pool.run(|| 7).await, 7);
}

#[tokio::test]
async fn a_job_runs_in_its_callers_span() {
    // Spans are only real with a subscriber; a global one so the worker thread sees it too.
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    let pool = CpuPool::new(1);

    let seen = pool
        .run(|| tracing::Span::current().metadata().map(|m| m.name()))
        .instrument(tracing::info_span!("media_job", media_id = 7))
        .await;

    assert_eq!(seen, Some("media_job"));
}

#[test]
fn a_pool_has_at_least_one_thread() {
    assert_eq!(CpuPool::new(0).threads(), 1);
    assert!(CpuPool::default_threads() >= 1);
}
