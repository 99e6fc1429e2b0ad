//! What the unit tests of more than one module share.

use std::fmt::Debug;
use std::time::Duration;

use platform_postgres::{Failure, PoolSettings, bounded, classify};
use platform_testkit::{GoesSilent, postgres_addr, postgres_admin_url_via};
use sqlx::{PgPool, Postgres, Transaction};

/// A transaction open on a server reached through a proxy that falls silent when told
/// (`GoesSilent::silence`), with a 500 ms acquire timeout and a 200 ms statement timeout:
/// what a statement meets when Postgres stops answering mid-transaction.
pub(crate) async fn transaction_on_a_server_about_to_fall_silent()
-> (GoesSilent, PgPool, Transaction<'static, Postgres>) {
    let proxy = GoesSilent::start(postgres_addr()).await;
    let settings = PoolSettings {
        max_connections: 1,
        acquire_timeout: Duration::from_millis(500),
        statement_timeout: Duration::from_millis(200),
    };
    let url = postgres_admin_url_via(proxy.addr());
    let pool = platform_postgres::connect(&url.into(), &settings).unwrap();
    let tx = bounded(pool.begin()).await.unwrap();
    (proxy, pool, tx)
}

/// Awaits `statement`, sent to a server that fell silent, and asserts it failed on its own
/// statement deadline (a [`Failure::Timeout`]), well before the test's.
pub(crate) async fn assert_gives_up<T: Debug>(
    statement: impl Future<Output = Result<T, sqlx::Error>>,
) {
    let error = tokio::time::timeout(Duration::from_secs(10), statement)
        .await
        .expect("the statement deadline fires, not the test's")
        .unwrap_err();
    assert_eq!(classify(&error), Failure::Timeout, "{error}");
}
