//! What a caller gets when its job panicked.

use std::any::Any;
use std::fmt;
use std::panic;
use std::sync::{Mutex, PoisonError};

/// A job panicked on a [`CpuPool`](crate::CpuPool) thread. The panic was caught there and the
/// thread lives on to run the next job; the payload is kept, so the caller can
/// [`resume`](Self::resume) the panic as if the job had run in place, or report it as an
/// error (it converts into `anyhow::Error` like any error).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = platform_cpu_pool::CpuPool::builder("fragile").threads(1).build().unwrap();
/// let panicked = pool.run(|_| -> u32 { panic!("bad input") }).await.unwrap_err();
/// assert_eq!(panicked.to_string(), "a job on the CPU pool panicked: bad input");
/// assert_eq!(pool.run(|_| 2 + 2).await.unwrap(), 4); // the pool survived
/// # }
/// ```
pub struct Panicked {
    /// The panic's message, when it has one (`panic!` with a string).
    message: Option<String>,
    /// Behind a lock only so that `Panicked` is `Sync`, as error types are expected to be:
    /// the payload is only ever taken out by value.
    payload: Mutex<Box<dyn Any + Send>>,
}

impl Panicked {
    pub(crate) fn new(payload: Box<dyn Any + Send>) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|m| (*m).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned());
        Self {
            message,
            payload: Mutex::new(payload),
        }
    }

    /// The value the job panicked with, as `std::panic::catch_unwind` returns it.
    pub fn into_panic(self) -> Box<dyn Any + Send> {
        self.payload
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Continues the job's panic in the caller, with its payload.
    ///
    /// ```should_panic
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = platform_cpu_pool::CpuPool::builder("strict").threads(1).build().unwrap();
    /// let value: u32 = pool
    ///     .run(|_| panic!("a bug"))
    ///     .await
    ///     .unwrap_or_else(|panicked| panicked.resume());
    /// # }
    /// ```
    pub fn resume(self) -> ! {
        panic::resume_unwind(self.into_panic())
    }
}

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a job on the CPU pool panicked")?;
        match &self.message {
            Some(message) => write!(f, ": {message}"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Panicked")
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl std::error::Error for Panicked {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_without_a_message_still_says_what_happened() {
        let panicked = Panicked::new(Box::new(42_u32));
        assert_eq!(panicked.to_string(), "a job on the CPU pool panicked");
        assert_eq!(panicked.into_panic().downcast_ref::<u32>(), Some(&42));
    }

    #[test]
    fn a_formatted_message_is_kept() {
        let panicked = Panicked::new(Box::new(format!("row {}", 7)));
        assert_eq!(
            panicked.to_string(),
            "a job on the CPU pool panicked: row 7"
        );
    }

    #[test]
    fn it_is_an_error_that_can_cross_threads() {
        fn error<E: std::error::Error + Send + Sync + 'static>() {}
        error::<Panicked>();
    }
}
