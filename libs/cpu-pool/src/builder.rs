//! How a [`CpuPool`] is configured and its threads started.

use std::io;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use crate::pool::{CpuPool, InFlight, Job};

/// The configuration of a [`CpuPool`]: its threads' names, their number, how many jobs may
/// wait for one, and the gauge that shows how busy it is. Made by [`CpuPool::builder`].
///
/// ```
/// use platform_cpu_pool::CpuPool;
///
/// let pool = CpuPool::builder("images")
///     .threads(4)
///     .queue(4)
///     .in_flight_gauge("images_pool_in_flight")
///     .build()
///     .expect("the OS starts four threads");
/// assert_eq!(pool.threads(), 4);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    name: String,
    threads: usize,
    queue: usize,
    in_flight_gauge: Option<&'static str>,
}

impl Builder {
    pub(crate) fn new(name: String) -> Self {
        Self {
            name,
            threads: crate::default_threads(),
            queue: 0,
            in_flight_gauge: None,
        }
    }

    /// Threads, and so jobs running at once: at least one (default
    /// [`default_threads`](crate::default_threads)).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Jobs that may wait for a thread beyond those running. The default, 0, queues a job
    /// only when a thread is free to take it: every other caller waits in
    /// [`CpuPool::run`], where it can still give up.
    pub fn queue(mut self, queue: usize) -> Self {
        self.queue = queue;
        self
    }

    /// A gauge (no labels) set to [`CpuPool::in_flight`] each time a job is admitted and each
    /// time one ends. Without it the pool records no metric.
    pub fn in_flight_gauge(mut self, name: &'static str) -> Self {
        self.in_flight_gauge = Some(name);
        self
    }

    /// Starts a pool whose jobs need no state of their own: they get `&mut ()`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = platform_cpu_pool::CpuPool::builder("sums").threads(1).build().unwrap();
    /// assert_eq!(pool.run(|_| (1..=10).sum::<u32>()).await.unwrap(), 55);
    /// # }
    /// ```
    pub fn build(self) -> io::Result<CpuPool> {
        self.build_with(|_| ())
    }

    /// Starts the threads, thread `i` owning the state `state(i)` for life. `state` is called
    /// here, on the caller's thread, before each thread starts: a state can be prepared, or
    /// handed over, ahead of the first job. A thread is named `<name>-<i>`.
    ///
    /// ```
    /// use platform_cpu_pool::CpuPool;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // The first thread takes a buffer already filled; the others start empty.
    /// let mut warm = Some(vec![7u8; 16]);
    /// let pool = CpuPool::builder("buffers")
    ///     .threads(1)
    ///     .build_with(|_| warm.take().unwrap_or_default())
    ///     .unwrap();
    /// assert_eq!(pool.run(|buffer| buffer.len()).await.unwrap(), 16);
    /// # }
    /// ```
    pub fn build_with<S: Send + 'static>(
        self,
        mut state: impl FnMut(usize) -> S,
    ) -> io::Result<CpuPool<S>> {
        let capacity = self.threads + self.queue;
        // Never full: a job is only sent while holding one of `capacity` permits.
        let (jobs, queue) = mpsc::sync_channel::<Job<S>>(capacity);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..self.threads {
            let (queue, state) = (Arc::clone(&queue), state(i));
            // On an error the threads already started exit as `jobs` is dropped.
            thread::Builder::new()
                .name(format!("{}-{i}", self.name))
                .spawn(move || work(&queue, state))?;
        }
        let in_flight = InFlight::new(capacity, self.in_flight_gauge);
        Ok(CpuPool::new(self.threads, in_flight, jobs))
    }
}

/// A pool thread: take the next job and lend it the state, until the pool is dropped and its
/// queue drained.
fn work<S>(queue: &Mutex<Receiver<Job<S>>>, mut state: S) {
    loop {
        // The lock is held only while waiting for a job, never while running one.
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match next {
            Ok(job) => job(&mut state),
            Err(mpsc::RecvError) => return,
        }
    }
}
