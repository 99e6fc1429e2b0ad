//! How a failed database call looks to the caller: [`classify`] sorts a `sqlx::Error` once,
//! here, and a data layer returns it as a [`DataError`], which each service's error converts
//! from in one `From`.

use crate::deadline;

/// How a failed call should look to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No connection could be had in time, or it broke: retry later (503).
    Unavailable,
    /// A statement ran past `statement_timeout`, or got no answer within
    /// [`statement_deadline`] (504).
    Timeout,
    /// Anything else: a bug or a constraint the caller did not map.
    Other,
}

/// Classifies `error`: what [`DataError`] is made of.
pub fn classify(error: &sqlx::Error) -> Failure {
    match error {
        // Before `Io`: the client-side deadline is an `Io` error of its own.
        error if deadline::is_deadline(error) => Failure::Timeout,
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            Failure::Unavailable
        }
        // 57014 query_canceled: our statement_timeout fired.
        sqlx::Error::Database(db) if db.code().as_deref() == Some("57014") => Failure::Timeout,
        sqlx::Error::Database(db) if server_cannot_serve(db.code().as_deref(), db.message()) => {
            Failure::Unavailable
        }
        _ => Failure::Other,
    }
}

/// Whether the server refused for a reason that passes: a connection failure (class 08), too
/// many connections or out of resources (53), shutting down or starting (57P01–57P03), or a
/// database that does not allow connections now (55000, `ALTER DATABASE … ALLOW_CONNECTIONS
/// false` during maintenance or an outage drill).
fn server_cannot_serve(code: Option<&str>, message: &str) -> bool {
    let Some(code) = code else { return false };
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(code, "57P01" | "57P02" | "57P03")
        || (code == "55000" && message.contains("not currently accepting connections"))
}

/// A failed database call, classified ([`classify`]) and logged once: what a data layer's
/// `?` makes of a `sqlx::Error`, and what its service's error converts from.
///
/// ```
/// use platform_postgres::DataError;
///
/// #[derive(Debug)]
/// enum BillingError {
///     Unavailable,
///     Timeout,
///     Unexpected(anyhow::Error),
/// }
///
/// impl From<DataError> for BillingError {
///     fn from(e: DataError) -> Self {
///         match e {
///             DataError::Unavailable(_) => Self::Unavailable,
///             DataError::Timeout(_) => Self::Timeout,
///             DataError::Other(_) => Self::Unexpected(e.into()),
///         }
///     }
/// }
///
/// let error = BillingError::from(DataError::from(sqlx::Error::PoolTimedOut));
/// assert!(matches!(error, BillingError::Unavailable));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// No connection could be had in time, or it broke: retry later (503).
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// A statement ran past its deadline (504).
    #[error("the database did not answer in time")]
    Timeout(#[source] sqlx::Error),
    /// Anything else: a bug or a constraint the caller did not map (500).
    #[error("database error")]
    Other(#[source] sqlx::Error),
}

/// Unavailability and timeouts are logged here, as a warning: they pass, and the caller
/// answers 503 or 504 without logging a failure of its own.
impl From<sqlx::Error> for DataError {
    fn from(e: sqlx::Error) -> Self {
        match classify(&e) {
            Failure::Unavailable => {
                tracing::warn!(error = %e, "database unavailable");
                Self::Unavailable(e)
            }
            Failure::Timeout => {
                tracing::warn!(error = %e, "database statement timed out");
                Self::Timeout(e)
            }
            Failure::Other => Self::Other(e),
        }
    }
}
