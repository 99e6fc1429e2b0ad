//! Bounded retries with jittered backoff, for idempotent calls only (DESIGN §6).
//!
//! Only `UNAVAILABLE` is retried: the call did not reach a replica that could answer (refused,
//! reset, a replica shutting down), so trying again, likely on another replica, is safe for a
//! read. A deadline that fired is not retried: the budget is spent.

use std::future::Future;
use std::hash::{BuildHasher as _, Hasher as _};
use std::time::Duration;

use tonic::{Code, Response, Status};

/// At most this many attempts in all.
const ATTEMPTS: u32 = 3;
/// The first backoff; each later one doubles. Full jitter: a random wait up to that bound.
const BASE_BACKOFF: Duration = Duration::from_millis(25);

/// Runs `call` until it succeeds, fails with something other than `UNAVAILABLE`, or has been
/// tried [`ATTEMPTS`] times. Use it only for calls that are safe to repeat.
///
/// ```
/// # async fn demo() -> Result<(), tonic::Status> {
/// let mut tries = 0;
/// let answer = platform_grpc::retry_idempotent(|| {
///     tries += 1;
///     let result = if tries < 2 { Err(tonic::Status::unavailable("restarting")) } else { Ok(42) };
///     async move { result }
/// })
/// .await?;
/// assert_eq!((answer, tries), (42, 2));
/// # Ok(()) }
/// ```
pub async fn retry_idempotent<T, F, Fut>(mut call: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Err(status) if status.code() == Code::Unavailable && attempt < ATTEMPTS => {
                let bound = BASE_BACKOFF * 2u32.pow(attempt - 1);
                tracing::debug!(attempt, error = %status.message(), "upstream unavailable; retrying");
                tokio::time::sleep(jitter(bound)).await;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

/// [`retry_idempotent`] for one unary call, the usual case: each attempt calls `call` with a
/// clone of `client` (a tonic client is a cheap handle on its channel) and of `request`, and
/// the answer is the response's message. Use it only for calls that are safe to repeat.
///
/// ```
/// # async fn demo() -> Result<(), tonic::Status> {
/// #[derive(Clone)]
/// struct Echo; // stands for a generated client, such as `UserServiceClient`
/// impl Echo {
///     async fn echo(&mut self, says: String) -> Result<tonic::Response<String>, tonic::Status> {
///         Ok(tonic::Response::new(says))
///     }
/// }
///
/// let answer = platform_grpc::retry_idempotent_unary(&Echo, "hi".to_owned(), async |mut client, says| {
///     client.echo(says).await
/// })
/// .await?;
/// assert_eq!(answer, "hi");
/// # Ok(()) }
/// ```
pub async fn retry_idempotent_unary<C, R, T>(
    client: &C,
    request: R,
    call: impl AsyncFn(C, R) -> Result<Response<T>, Status>,
) -> Result<T, Status>
where
    C: Clone,
    R: Clone,
{
    retry_idempotent(|| call(client.clone(), request.clone()))
        .await
        .map(Response::into_inner)
}

/// A random duration in `[0, bound]`, so callers that failed together do not retry together.
fn jitter(bound: Duration) -> Duration {
    // RandomState is seeded randomly per instance: enough randomness for spreading retries.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(random % nanos.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    async fn run(failures: &[Code], calls: &Cell<u32>) -> Result<u32, Status> {
        retry_idempotent(|| {
            let n = calls.get();
            calls.set(n + 1);
            let outcome = match failures.get(n as usize) {
                Some(code) => Err(Status::new(*code, "failed")),
                None => Ok(n),
            };
            async move { outcome }
        })
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn unavailable_is_retried_until_it_succeeds() {
        let calls = Cell::new(0);
        assert_eq!(
            run(&[Code::Unavailable, Code::Unavailable], &calls)
                .await
                .unwrap(),
            2
        );
        assert_eq!(calls.get(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_are_bounded() {
        let calls = Cell::new(0);
        let failures = [Code::Unavailable; 10];
        assert_eq!(
            run(&failures, &calls).await.unwrap_err().code(),
            Code::Unavailable
        );
        assert_eq!(calls.get(), ATTEMPTS);
    }

    #[tokio::test(start_paused = true)]
    async fn other_failures_are_not_retried() {
        for code in [
            Code::DeadlineExceeded,
            Code::InvalidArgument,
            Code::NotFound,
            Code::Internal,
        ] {
            let calls = Cell::new(0);
            assert_eq!(run(&[code], &calls).await.unwrap_err().code(), code);
            assert_eq!(calls.get(), 1, "{code:?}");
        }
    }

    #[test]
    fn jitter_stays_within_its_bound() {
        for _ in 0..1000 {
            assert!(jitter(Duration::from_millis(10)) <= Duration::from_millis(10));
        }
    }
}
