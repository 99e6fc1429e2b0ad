//! The test kit every harness is built from: a fresh Postgres database per test, Redis on
//! loopback, peers that accept connections and never answer, or stop answering
//! mid-conversation ([`GoesSilent`]), to prove deadlines fire; gRPC stub servers
//! ([`serve_stub`]), pollers ([`eventually`], [`until_some`], [`within`]) and Kafka record
//! readers ([`header`], [`event_id`], [`decode`]).
//!
//! Postgres and Redis are the real servers on loopback (`TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; `TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379`).
//!
//! ```no_run
//! use platform_testkit::{black_hole, TestDatabase};
//! # static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate::Migrator::DEFAULT;
//! # async fn t() {
//! let db = TestDatabase::create(&MIGRATOR).await; // dropped with `db`
//! let silent_peer = black_hole().await;            // connects, never answers
//! # let _ = (db.url(), silent_peer);
//! # }
//! ```

mod grpc;
pub mod native;
mod poll;
mod records;
mod settings;
mod silent;

pub use grpc::{error_reason, serve_stub, violated_fields, violations};
pub use poll::{PATIENCE, eventually, until_some, within};
pub use records::{decode, event_id, header, key};
pub use settings::refusal;
pub use silent::{GoesSilent, postgres_addr, postgres_admin_url_via};

use std::net::SocketAddr;

use sqlx::migrate::Migrator;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use tokio::net::TcpListener;

/// The server-level URL the harness creates databases through.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The Redis the tests share; isolate tests with [`unique`] key prefixes.
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A name no other test uses, e.g. for an email or a key prefix.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// A database created for one test, migrated, and dropped when this value is dropped.
pub struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates `test_<uuid>` and applies `migrator`. Panics with the reason: a test cannot
    /// run without its database.
    pub async fn create(migrator: &Migrator) -> Self {
        let name = unique("test_");
        let admin = postgres_admin_url();
        let mut conn = PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("cannot reach Postgres at {admin}: {e}"));
        // The name is ours (a uuid), never input, so formatting it into SQL is safe.
        conn.execute(AssertSqlSafe(format!(r#"create database "{name}""#)))
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        let url = database_url(&admin, &name);
        let mut conn = PgConnection::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {name}: {e}"));
        migrator
            .run(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("migrating {name} failed: {e}"));
        Self { name, url }
    }

    /// The URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs outside async code: use a short-lived runtime on its own thread.
        let name = self.name.clone();
        let admin = postgres_admin_url();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin).await?;
                conn.execute(AssertSqlSafe(format!(
                    r#"drop database if exists "{name}" with (force)"#
                )))
                .await?;
                anyhow::Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: test database {} was not dropped", self.name);
        }
    }
}

/// `admin` with its database name replaced by `database`.
pub fn database_url(admin: &str, database: &str) -> String {
    match admin.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{database}"),
        None => format!("{admin}/{database}"),
    }
}

/// A TCP peer that accepts every connection and never sends a byte: the worst kind of
/// upstream, which only a deadline gets out of. Lives as long as the test's runtime.
pub async fn black_hole() -> SocketAddr {
    let (listener, addr) = loopback_listener().await;
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}

/// The Prometheus text a service's ops listener serves on `/metrics`. Panics unless it
/// answers 200: a test asserting on metrics cannot go on without them.
pub async fn scrape_metrics(ops: SocketAddr) -> String {
    let response = reqwest::get(format!("http://{ops}/metrics"))
        .await
        .unwrap_or_else(|e| panic!("GET http://{ops}/metrics: {e}"));
    assert_eq!(response.status(), 200, "GET http://{ops}/metrics");
    response.text().await.expect("a metrics body")
}

/// The object-store settings, as variables, of an S3 endpoint that accepts connections and
/// never answers, with a 300 ms deadline: a store only the deadline gets out of.
///
/// ```no_run
/// # async fn t() {
/// let env = platform_testkit::silent_s3().await;
/// // let storage = StorageSettings::from_env(&env)?;
/// # let _ = env;
/// # }
/// ```
pub async fn silent_s3() -> platform_config::Env {
    let endpoint = format!("http://{}", black_hole().await);
    platform_config::Env::from_pairs([
        ("OBJECT_STORE_URL", "s3://media"),
        ("OBJECT_STORE_S3_ENDPOINT", endpoint.as_str()),
        ("OBJECT_STORE_S3_ACCESS_KEY_ID", "test"),
        ("OBJECT_STORE_S3_SECRET_ACCESS_KEY", "test"),
        ("OBJECT_STORE_TIMEOUT", "300ms"),
    ])
}

/// Asserts that the service whose ops listener is `ops` has recorded `sample` (a metric's
/// name, with its labels as the text shows them).
///
/// ```no_run
/// # async fn t(ops: std::net::SocketAddr) {
/// platform_testkit::assert_metric(ops, r#"profile_cache_lookups_total{result="bypass"}"#).await;
/// # }
/// ```
pub async fn assert_metric(ops: SocketAddr, sample: &str) {
    let metrics = scrape_metrics(ops).await;
    assert!(metrics.contains(sample), "no {sample} in:\n{metrics}");
}

/// A loopback address where nothing listens: connections are refused at once.
pub async fn refused_addr() -> SocketAddr {
    // The listener is dropped on return: nothing listens there any more.
    loopback_listener().await.1
}

/// A listener on a free loopback port, and its address.
pub(crate) async fn loopback_listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a loopback port");
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    (listener, addr)
}
