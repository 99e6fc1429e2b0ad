//! A bounded pool of OS threads for CPU-bound jobs, awaited from async code.
//!
//! Why not `tokio::task::spawn_blocking`: tokio's blocking pool is shared with every file and
//! DNS call of the process and grows to 512 threads by default, so it bounds neither CPU nor
//! memory. Here at most `threads` jobs run (one per core by default) and at most `threads`
//! more wait in the queue. A caller beyond that waits, asynchronously, in [`CpuPool::run`]
//! before its job is even queued: the Kafka consumer awaiting `run` stops pulling messages
//! while the pool is full, which is the backpressure that bounds the worker's memory.
//!
//! The gauge `media_worker_pool_in_flight` follows [`CpuPool::in_flight`] as jobs are admitted
//! and end.

use std::num::NonZeroUsize;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use tokio::sync::{Semaphore, oneshot};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed set of worker threads with a bounded queue. Cloning is cheap and shares the pool;
/// the threads exit once the last clone is dropped and the queued jobs are done.
#[derive(Clone)]
pub struct CpuPool {
    /// One permit per job running or queued: `2 × threads`, handed out in FIFO order.
    slots: Arc<Semaphore>,
    capacity: usize,
    threads: usize,
    jobs: SyncSender<Job>,
}

impl std::fmt::Debug for CpuPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuPool")
            .field("threads", &self.threads)
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

impl CpuPool {
    /// Starts `threads` worker threads (at least one).
    pub fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        let capacity = 2 * threads;
        // Never full: a job is only sent while holding one of `capacity` permits.
        let (jobs, queue) = mpsc::sync_channel::<Job>(capacity);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = Arc::clone(&queue);
            thread::Builder::new()
                .name(format!("media-cpu-{i}"))
                .spawn(move || work(&queue))
                .expect("the OS can start the pool's threads at startup");
        }
        Self {
            slots: Arc::new(Semaphore::new(capacity)),
            capacity,
            threads,
            jobs,
        }
    }

    /// One thread per core the process may use (cgroup CPU quotas included).
    pub fn default_threads() -> usize {
        thread::available_parallelism().map_or(1, NonZeroUsize::get)
    }

    /// The number of worker threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Jobs running or queued now, for a saturation gauge.
    pub fn in_flight(&self) -> usize {
        self.capacity - self.slots.available_permits()
    }

    /// Runs `job` on a worker thread inside the caller's tracing span, waiting first for a
    /// free slot. A panic in `job` resumes in the caller; the worker thread survives it.
    ///
    /// If the caller stops awaiting, a job already queued still runs and keeps its slot until
    /// it ends, so the bound holds; its result is dropped.
    pub async fn run<T, F>(&self, job: F) -> T
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .expect("the pool never closes its semaphore");
        report_in_flight(&self.slots, self.capacity);
        let (slots, capacity) = (Arc::clone(&self.slots), self.capacity);
        let span = tracing::Span::current();
        let (done, result) = oneshot::channel();
        let task: Job = Box::new(move || {
            let outcome = span.in_scope(|| panic::catch_unwind(AssertUnwindSafe(job)));
            drop(slot);
            report_in_flight(&slots, capacity);
            // An error means the caller stopped waiting; nobody wants the result.
            let _ = done.send(outcome);
        });
        self.jobs
            .send(task)
            .expect("worker threads live as long as the pool");
        match result.await.expect("a worker runs every job it is sent") {
            Ok(value) => value,
            Err(panic) => panic::resume_unwind(panic),
        }
    }
}

fn report_in_flight(slots: &Semaphore, capacity: usize) {
    let in_flight = capacity - slots.available_permits();
    metrics::gauge!("media_worker_pool_in_flight").set(in_flight as f64);
}

/// A worker: take the next job, run it, until the pool is dropped and the queue drained.
fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for a job, never while running one.
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match next {
            Ok(job) => job(),
            Err(mpsc::RecvError) => return,
        }
    }
}
