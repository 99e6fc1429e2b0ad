//! The client-side deadline on every statement.
//!
//! Postgres's `statement_timeout` cancels a statement that the server is running; it does
//! nothing when the server, or the network to it, stops answering. sqlx has no socket
//! timeout and no hook between the pool and its connections' I/O, so the deadline cannot
//! be set once on the pool: every call site wraps its statement in [`bounded`].
//!
//! What the deadline cannot do: the connection it abandons goes back to the pool through
//! sqlx's release ping, which waits for the server without a bound, and closing it instead
//! would wait too (with TLS, sqlx's shutdown waits to read). So a server that stays silent
//! keeps that connection's slot until it answers again or the socket fails; once every slot
//! is held, calls fail within `DATABASE_ACQUIRE_TIMEOUT` (unavailable) instead of hanging.
//!
//! The deadline is one per process, like `DATABASE_STATEMENT_TIMEOUT`: every pool of a
//! service is made from the same [`PoolSettings`], and [`connect`](crate::connect) sets it.

use std::fmt;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::PoolSettings;

/// Room for Postgres's own cancellation to arrive after `statement_timeout`, so that a live
/// server still answers a slow statement with its clean error (57014) before the client
/// gives up on it.
const SERVER_CANCEL_GRACE: Duration = Duration::from_secs(1);

/// In milliseconds; until a pool is made, the defaults' deadline (2 s + 5 s + 1 s).
static DEADLINE_MS: AtomicU64 = AtomicU64::new(8_000);

impl PoolSettings {
    /// How long one call may take before the client gives up: the wait for a connection,
    /// the statement's `statement_timeout`, and a grace for the server's own cancellation.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let settings = platform_postgres::PoolSettings {
    ///     max_connections: 10,
    ///     acquire_timeout: Duration::from_secs(2),
    ///     statement_timeout: Duration::from_secs(5),
    /// };
    /// assert_eq!(settings.statement_deadline(), Duration::from_secs(8));
    /// ```
    pub fn statement_deadline(&self) -> Duration {
        self.acquire_timeout + self.statement_timeout + SERVER_CANCEL_GRACE
    }
}

/// Makes `settings`' deadline the one [`bounded`] applies.
pub(crate) fn install(settings: &PoolSettings) {
    let millis = u64::try_from(settings.statement_deadline().as_millis()).unwrap_or(u64::MAX);
    DEADLINE_MS.store(millis, Ordering::Relaxed);
}

/// The deadline [`bounded`] applies now ([`PoolSettings::statement_deadline`] of the last
/// pool made).
///
/// ```
/// assert!(platform_postgres::statement_deadline() > std::time::Duration::ZERO);
/// ```
pub fn statement_deadline() -> Duration {
    Duration::from_millis(DEADLINE_MS.load(Ordering::Relaxed))
}

/// Runs one database call, at most [`statement_deadline`]: a statement, `begin`, `commit`,
/// or a `fetch_*` on the pool (its wait for a connection included). Past the deadline the
/// call is dropped and fails with an error that [`classify`](crate::classify) calls
/// [`Failure::Timeout`](crate::Failure::Timeout).
///
/// ```no_run
/// # async fn run(pool: sqlx::PgPool) -> Result<(), sqlx::Error> {
/// use platform_postgres::bounded;
///
/// let mut tx = bounded(pool.begin()).await?;
/// bounded(sqlx::query("update profiles set bio = null").execute(&mut *tx)).await?;
/// bounded(tx.commit()).await?;
/// # Ok(()) }
/// ```
pub async fn bounded<T>(
    call: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, sqlx::Error> {
    let deadline = statement_deadline();
    match tokio::time::timeout(deadline, call).await {
        Ok(result) => result,
        Err(_) => Err(sqlx::Error::Io(io::Error::new(
            io::ErrorKind::TimedOut,
            DeadlineExceeded(deadline),
        ))),
    }
}

/// Whether `error` is [`bounded`]'s deadline.
pub(crate) fn is_deadline(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Io(io) if io.get_ref().is_some_and(|inner| inner.is::<DeadlineExceeded>()))
}

#[derive(Debug)]
struct DeadlineExceeded(Duration);

impl fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no answer from Postgres within {:?}", self.0)
    }
}

impl std::error::Error for DeadlineExceeded {}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use platform_testkit::GoesSilent;

    use super::*;
    use crate::{Failure, classify, connect};

    fn short_settings() -> PoolSettings {
        PoolSettings {
            max_connections: 1,
            acquire_timeout: Duration::from_millis(500),
            statement_timeout: Duration::from_millis(200),
        }
    }

    /// A transaction on a pool of one connection, begun through `proxy` while it forwards.
    /// The server then stops answering inside the transaction, as the relay and consumers
    /// run their statements. (A call on the pool itself would meet the silence in the pool's
    /// ping before acquire, which `DATABASE_ACQUIRE_TIMEOUT` already bounds.)
    async fn transaction_through(
        proxy: &GoesSilent,
    ) -> (sqlx::PgPool, sqlx::Transaction<'static, sqlx::Postgres>) {
        let url = platform_testkit::postgres_admin_url_via(proxy.addr());
        let pool = connect(&url.into(), &short_settings()).unwrap();
        let tx = bounded(pool.begin())
            .await
            .expect("Postgres answers through the proxy");
        (pool, tx)
    }

    #[tokio::test]
    async fn a_statement_on_a_server_that_stopped_answering_fails_at_the_deadline() {
        let proxy = GoesSilent::start(platform_testkit::postgres_addr()).await;
        let (_pool, mut tx) = transaction_through(&proxy).await;
        proxy.silence();

        let started = Instant::now();
        let error = tokio::time::timeout(
            Duration::from_secs(10),
            bounded(sqlx::query("select 1").execute(&mut *tx)),
        )
        .await
        .expect("the client deadline fires, not the test's")
        .unwrap_err();
        assert_eq!(classify(&error), Failure::Timeout, "{error}");
        let took = started.elapsed();
        let deadline = short_settings().statement_deadline();
        assert!(took >= deadline, "{took:?}");
        assert!(took < deadline + Duration::from_secs(1), "{took:?}");
    }

    #[tokio::test]
    async fn a_call_within_the_deadline_is_untouched() {
        let pool = connect(
            &platform_testkit::postgres_admin_url().into(),
            &short_settings(),
        )
        .unwrap();
        let one: i32 = bounded(sqlx::query_scalar("select 1").fetch_one(&pool))
            .await
            .unwrap();
        assert_eq!(one, 1);
    }
}
