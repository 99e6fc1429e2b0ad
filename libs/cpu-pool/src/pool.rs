//! The pool itself: admission of a job, its run on a thread, and its result back to the
//! caller.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::mpsc::SyncSender;

use tokio::sync::{Semaphore, oneshot};

use crate::{Builder, Panicked};

/// A job as a thread runs it: lent the thread's state, it sends its own result.
pub(crate) type Job<S> = Box<dyn FnOnce(&mut S) + Send>;

/// A fixed set of threads, each owning a state `S`, with a bounded queue. Cloning is cheap
/// and shares the pool; the threads exit once the last clone is dropped and the jobs already
/// queued are done.
///
/// ```
/// use platform_cpu_pool::CpuPool;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = CpuPool::builder("primes").threads(2).build().unwrap();
/// let count = pool
///     .run(|_| (2..10_000u32).filter(|n| (2..*n).take_while(|d| d * d <= *n).all(|d| n % d != 0)).count())
///     .await
///     .unwrap();
/// assert_eq!(count, 1229);
/// # }
/// ```
pub struct CpuPool<S = ()> {
    threads: usize,
    in_flight: InFlight,
    /// Never full: a job is sent only while holding a slot. Dropping the last sender lets the
    /// threads exit.
    jobs: SyncSender<Job<S>>,
}

impl<S> Clone for CpuPool<S> {
    // Not derived: that would require `S: Clone`, and the states are never cloned.
    fn clone(&self) -> Self {
        Self {
            threads: self.threads,
            in_flight: self.in_flight.clone(),
            jobs: self.jobs.clone(),
        }
    }
}

impl<S> fmt::Debug for CpuPool<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CpuPool")
            .field("threads", &self.threads)
            .field("in_flight", &self.in_flight.count())
            .finish()
    }
}

impl CpuPool {
    /// Starts configuring a pool whose threads are named `<name>-<i>`.
    ///
    /// ```
    /// let pool = platform_cpu_pool::CpuPool::builder("resize").threads(3).build().unwrap();
    /// assert_eq!(pool.threads(), 3);
    /// ```
    pub fn builder(name: impl Into<String>) -> Builder {
        Builder::new(name.into())
    }
}

impl<S: 'static> CpuPool<S> {
    pub(crate) fn new(threads: usize, in_flight: InFlight, jobs: SyncSender<Job<S>>) -> Self {
        Self {
            threads,
            in_flight,
            jobs,
        }
    }

    /// The number of threads: the most jobs that run at once.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Jobs running or queued now, for a saturation gauge or a test.
    ///
    /// ```
    /// let pool = platform_cpu_pool::CpuPool::builder("idle").build().unwrap();
    /// assert_eq!(pool.in_flight(), 0);
    /// ```
    pub fn in_flight(&self) -> usize {
        self.in_flight.count()
    }

    /// Runs `job` on a pool thread with that thread's state, inside the caller's tracing
    /// span, waiting first (asynchronously, in FIFO order) for a slot.
    ///
    /// A panic in `job` is caught: the thread lives on, with its state as the job left it,
    /// and the caller gets [`Panicked`] to resume or report. If the caller stops awaiting, a
    /// job already queued still runs and keeps its slot until it ends, so the bound holds;
    /// its result is dropped.
    ///
    /// ```
    /// use platform_cpu_pool::CpuPool;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = CpuPool::builder("counters").threads(1).build_with(|_| 0u32).unwrap();
    /// for expected in 1..=3 {
    ///     assert_eq!(pool.run(|runs| { *runs += 1; *runs }).await.unwrap(), expected);
    /// }
    /// # }
    /// ```
    pub async fn run<T, F>(&self, job: F) -> Result<T, Panicked>
    where
        F: FnOnce(&mut S) -> T + Send + 'static,
        T: Send + 'static,
    {
        let slot = Arc::clone(&self.in_flight.slots)
            .acquire_owned()
            .await
            .expect("the pool never closes its semaphore");
        self.in_flight.report();
        let in_flight = self.in_flight.clone();
        let span = tracing::Span::current();
        let (done, result) = oneshot::channel();
        let task: Job<S> = Box::new(move |state| {
            let outcome = span.in_scope(|| panic::catch_unwind(AssertUnwindSafe(|| job(state))));
            drop(slot);
            in_flight.report();
            // An error means the caller stopped waiting; nobody wants the result.
            let _ = done.send(outcome);
        });
        self.jobs
            .send(task)
            .expect("the threads live as long as the pool");
        result
            .await
            .expect("a thread runs every job it is sent")
            .map_err(Panicked::new)
    }
}

/// The slots of a pool (one per job running or queued) and the gauge that follows them.
#[derive(Clone)]
pub(crate) struct InFlight {
    /// `capacity` permits, handed out in FIFO order.
    slots: Arc<Semaphore>,
    capacity: usize,
    gauge: Option<&'static str>,
}

impl InFlight {
    pub(crate) fn new(capacity: usize, gauge: Option<&'static str>) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(capacity)),
            capacity,
            gauge,
        }
    }

    fn count(&self) -> usize {
        self.capacity - self.slots.available_permits()
    }

    fn report(&self) {
        if let Some(name) = self.gauge {
            metrics::gauge!(name).set(self.count() as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc::{Receiver, Sender, channel};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use tracing::Instrument as _;

    use super::*;

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
        let (open, gate) = gate();
        let started = Arc::new(AtomicUsize::new(0));

        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..3 {
            let (pool, job) = (pool.clone(), blocked_job(&gate, &started));
            callers.spawn(async move { pool.run(job).await.unwrap() });
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
    async fn without_a_queue_a_job_is_admitted_only_when_a_thread_is_free() {
        let pool = CpuPool::builder("test").threads(2).build().unwrap();
        let (open, gate) = gate();
        let started = Arc::new(AtomicUsize::new(0));

        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..3 {
            let (pool, job) = (pool.clone(), blocked_job(&gate, &started));
            callers.spawn(async move { pool.run(job).await.unwrap() });
        }
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
        let (open, gate) = gate();
        let started = Arc::new(AtomicUsize::new(0));

        let job = tokio::spawn({
            let (pool, job) = (pool.clone(), blocked_job(&gate, &started));
            async move { pool.run(job).await.unwrap() }
        });
        eventually("the job is admitted", || read() == 1.0).await;
        drop(open);
        job.await.unwrap();

        eventually("the job's end is reported", || read() == 0.0).await;
    }

    #[test]
    fn a_pool_has_at_least_one_thread() {
        assert_eq!(pool(0).threads(), 1);
        assert!(crate::default_threads() >= 1);
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
        fn register_counter(
            &self,
            _: &metrics::Key,
            _: &metrics::Metadata<'_>,
        ) -> metrics::Counter {
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
}
