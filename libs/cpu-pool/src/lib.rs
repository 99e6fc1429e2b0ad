//! A bounded pool of dedicated OS threads for CPU-bound jobs, awaited from async code. The
//! media worker processes images on one, auth hashes passwords on another.
//!
//! Why not `tokio::task::spawn_blocking`: tokio's blocking pool is shared with every file and
//! DNS call of the process and grows to 512 threads by default, so it bounds neither CPU nor
//! memory. A [`CpuPool`] runs at most `threads` jobs at once, on threads of its own, and lets
//! at most `queue` more wait for one. A caller beyond that waits, asynchronously and in FIFO
//! order, in [`CpuPool::run`] before its job is even queued, and may give up meanwhile (a
//! deadline): that wait is the backpressure that bounds a service's CPU and memory.
//!
//! Each thread keeps a state of its own for life and lends it to every job it runs. Auth keeps
//! its argon2 memory there, so its resident memory stays at one block per thread instead of
//! growing in glibc's heap arenas with every hash (issue 17).
//!
//! ```
//! use platform_cpu_pool::CpuPool;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // Two threads, each with a scratch buffer it reuses from job to job.
//! let pool = CpuPool::builder("checksum")
//!     .threads(2)
//!     .build_with(|_thread| Vec::<u8>::with_capacity(1 << 20))
//!     .expect("the OS starts two threads");
//! let sum = pool
//!     .run(|scratch| {
//!         scratch.clear();
//!         scratch.extend(1..=100u8);
//!         scratch.iter().map(|&b| u32::from(b)).sum::<u32>()
//!     })
//!     .await
//!     .expect("the job does not panic");
//! assert_eq!(sum, 5050);
//! # }
//! ```

mod builder;
mod panicked;
mod pool;

pub use builder::Builder;
pub use panicked::Panicked;
pub use pool::CpuPool;

/// One thread per core the process may use (cgroup CPU quotas included), and at least one:
/// the usual size of a pool whose jobs keep a core busy from start to end.
///
/// ```
/// assert!(platform_cpu_pool::default_threads() >= 1);
/// ```
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}
