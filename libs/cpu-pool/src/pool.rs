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
