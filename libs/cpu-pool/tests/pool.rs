//! The pool's contract, through its public API: the bound on jobs running and waiting, a
//! caller giving up, panics, the state each thread keeps, the caller's span and the gauge.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use platform_cpu_pool::CpuPool;
use tracing::Instrument as _;

/// A pool as the media worker sizes it: `threads` running, as many more queued.
fn pool(threads: usize) -> CpuPool {
    CpuPool::builder("test")
        .threads(threads)
        .queue(threads)
        .build()
        .unwrap()
}

/// Jobs that block until the `Sender` is dropped, so a test decides when they end.
fn gate() -> (Sender<()>, Arc<Mutex<Receiver<()>>>) {
    let (open, wait) = channel();
    (open, Arc::new(Mutex::new(wait)))
}

fn blocked_job(
    gate: &Arc<Mutex<Receiver<()>>>,
    started: &Arc<AtomicUsize>,
) -> impl FnOnce(&mut ()) + Send + 'static {
    let (gate, started) = (Arc::clone(gate), Arc::clone(started));
    move |_| {
        started.fetch_add(1, Ordering::SeqCst);
        let _ = gate.lock().unwrap().recv();
    }
}

/// Starts `n` callers, each running a `blocked_job`: they all end once the `Sender` is dropped,
/// and the counter says how many jobs a pool thread has started.
fn blocked_callers(
    pool: &CpuPool,
    n: usize,
) -> (Sender<()>, Arc<AtomicUsize>, tokio::task::JoinSet<()>) {
    let (open, gate) = gate();
    let started = Arc::new(AtomicUsize::new(0));
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (pool, job) = (pool.clone(), blocked_job(&gate, &started));
        callers.spawn(async move { pool.run(job).await.unwrap() });
    }
    (open, started, callers)
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
    let pool = pool(3);
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));

    let mut callers = tokio::task::JoinSet::new();
    for i in 0..40 {
        let (pool, running, most) = (pool.clone(), Arc::clone(&running), Arc::clone(&most));
        callers.spawn(async move {
            pool.run(move |_| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                running.fetch_sub(1, Ordering::SeqCst);
                i
            })
            .await
            .unwrap()
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
    let pool = pool(1); // one running, one queued

    let (open, started, callers) = blocked_callers(&pool, 3);
    eventually("the pool is full", || pool.in_flight() == 2).await;
    tokio::time::sleep(Duration::from_millis(50)).await;

    assert_eq!(pool.in_flight(), 2, "the third caller is not queued");
    assert_eq!(started.load(Ordering::SeqCst), 1);
    drop(open);
    assert_eq!(callers.join_all().await.len(), 3);
    assert_eq!(started.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn without_a_queue_a_job_is_admitted_only_when_a_thread_is_free() {
    let pool = CpuPool::builder("test").threads(2).build().unwrap();

    let (open, started, callers) = blocked_callers(&pool, 3);
    eventually("both threads are busy", || {
        started.load(Ordering::SeqCst) == 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;

    assert_eq!(
        pool.in_flight(),
        2,
        "the third caller waits outside the pool"
    );
    drop(open);
    assert_eq!(callers.join_all().await.len(), 3);
}

#[tokio::test]
async fn a_caller_that_gives_up_keeps_its_slot_until_the_job_ends() {
    let pool = pool(1);
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
    assert_eq!(pool.run(|_| 7).await.unwrap(), 7);
}

#[tokio::test]
async fn a_panicking_job_fails_its_caller_and_the_pool_survives() {
    let pool = pool(1);

    let panicked = pool
        .run(|_| -> u8 { panic!("bad pixels") })
        .await
        .unwrap_err();

    assert_eq!(
        panicked.to_string(),
        "a job on the CPU pool panicked: bad pixels"
    );
    let payload = panicked.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"bad pixels"));
    assert_eq!(pool.run(|_| 7).await.unwrap(), 7);
}

#[tokio::test]
async fn a_resumed_panic_panics_the_caller_with_the_jobs_payload() {
    let pool = pool(1);

    let caller = {
        let pool = pool.clone();
        tokio::spawn(async move {
            pool.run(|_| -> u8 { panic!("bad pixels") })
                .await
                .unwrap_or_else(|panicked| panicked.resume())
        })
    };
    let panic = caller.await.unwrap_err().into_panic();

    assert_eq!(panic.downcast_ref::<&str>(), Some(&"bad pixels"));
    assert_eq!(pool.run(|_| 7).await.unwrap(), 7);
}

#[tokio::test]
async fn each_thread_keeps_its_own_state_from_job_to_job() {
    let made = Arc::new(AtomicUsize::new(0));
    let pool = {
        let made = Arc::clone(&made);
        CpuPool::builder("test")
            .threads(2)
            .build_with(move |thread| {
                made.fetch_add(1, Ordering::SeqCst);
                (thread, 0_usize)
            })
            .unwrap()
    };

    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let pool = pool.clone();
        callers.spawn(async move {
            pool.run(|(thread, runs)| {
                *runs += 1;
                std::thread::sleep(Duration::from_millis(1));
                (*thread, *runs)
            })
            .await
            .unwrap()
        });
    }
    let seen = callers.join_all().await;

    assert_eq!(made.load(Ordering::SeqCst), 2, "one state per thread");
    // Each thread counted its own jobs: its counts are 1, 2, … with no gap or repeat.
    for thread in 0..2 {
        let mut counts: Vec<usize> = seen
            .iter()
            .filter(|(t, _)| *t == thread)
            .map(|(_, runs)| *runs)
            .collect();
        counts.sort_unstable();
        assert_eq!(
            counts,
            (1..=counts.len()).collect::<Vec<_>>(),
            "thread {thread}"
        );
    }
}

#[tokio::test]
async fn a_thread_keeps_its_state_through_a_panic() {
    let pool = CpuPool::builder("test")
        .threads(1)
        .build_with(|_| Vec::<u8>::new())
        .unwrap();

    let panicked = pool
        .run(|kept| {
            kept.push(1);
            panic!("after writing")
        })
        .await;

    assert!(panicked.is_err());
    assert_eq!(pool.run(|kept| kept.clone()).await.unwrap(), [1]);
}

#[tokio::test]
async fn a_job_runs_in_its_callers_span() {
    // Spans are only real with a subscriber; a global one so the pool thread sees it too.
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    let pool = pool(1);

    let seen = pool
        .run(|_| tracing::Span::current().metadata().map(|m| m.name()))
        .instrument(tracing::info_span!("media_job", media_id = 7))
        .await
        .unwrap();

    assert_eq!(seen, Some("media_job"));
}

#[tokio::test]
async fn the_gauge_follows_the_jobs_in_flight() {
    let gauge = Arc::new(std::sync::atomic::AtomicU64::new(f64::NAN.to_bits()));
    metrics::set_global_recorder(OneGauge {
        name: "test_pool_in_flight",
        value: Arc::clone(&gauge),
    })
    .expect("no other test installs a recorder");
    let read = || f64::from_bits(gauge.load(Ordering::SeqCst));
    let pool = CpuPool::builder("test")
        .threads(1)
        .in_flight_gauge("test_pool_in_flight")
        .build()
        .unwrap();
    let (open, _, job) = blocked_callers(&pool, 1);
    eventually("the job is admitted", || read() == 1.0).await;
    drop(open);
    job.join_all().await;

    eventually("the job's end is reported", || read() == 0.0).await;
}

#[test]
fn a_pool_has_at_least_one_thread() {
    assert_eq!(pool(0).threads(), 1);
    assert!(platform_cpu_pool::default_threads() >= 1);
}

/// A recorder that keeps one gauge's value and ignores every other metric.
struct OneGauge {
    name: &'static str,
    value: Arc<std::sync::atomic::AtomicU64>,
}

impl metrics::Recorder for OneGauge {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::noop()
    }
    fn register_gauge(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        if key.name() == self.name {
            metrics::Gauge::from_arc(Arc::clone(&self.value))
        } else {
            metrics::Gauge::noop()
        }
    }
    fn register_histogram(
        &self,
        _: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}
