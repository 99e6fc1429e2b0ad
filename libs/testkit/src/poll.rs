//! Waiting for what happens elsewhere (a consumer, a worker, a relay): poll until it holds,
//! and fail the test with what was awaited after [`PATIENCE`].

use std::future::Future;
use std::time::Duration;

/// How long any awaited condition may take before the test fails: a consumer group's first
/// assignment on the embedded broker alone takes about 3 s, a session timeout after a kill
/// more, and images are processed by an unoptimised build.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// How often a condition is asked again.
const INTERVAL: Duration = Duration::from_millis(50);

/// Polls `condition` until it holds; fails the test after [`PATIENCE`].
///
/// ```no_run
/// # async fn t(pending: impl Fn() -> std::future::Ready<i64>) {
/// platform_testkit::eventually("the outbox to drain", || async { pending().await == 0 }).await;
/// # }
/// ```
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    until_some(what, || {
        let holds = condition();
        async move { holds.await.then_some(()) }
    })
    .await;
}

/// Polls `probe` until it finds something, and returns it; fails the test after
/// [`PATIENCE`].
///
/// ```no_run
/// # async fn t(find: impl Fn() -> std::future::Ready<Option<u32>>) {
/// let found = platform_testkit::until_some("the record", || find()).await;
/// # let _ = found;
/// # }
/// ```
pub async fn until_some<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(INTERVAL).await;
    }
}

/// Awaits `future`; fails the test after [`PATIENCE`].
///
/// ```no_run
/// # async fn t() {
/// let ran = platform_testkit::within("the handler", async { 42 }).await;
/// # let _ = ran;
/// # }
/// ```
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}
