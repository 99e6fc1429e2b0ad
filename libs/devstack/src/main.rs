//! `cargo run -p platform-devstack`: the whole platform on this machine, in one process.
//!
//! It creates the services' databases on the local Postgres if they are missing, applies
//! their migrations, and starts every service on its usual port, each configured from the
//! environment exactly as in production (defaults point at localhost). Ctrl-C drains all.
//!
//! Variables read, besides every service's own: `DEVSTACK_POSTGRES_URL` (the server to
//! create databases on, default `postgres://postgres@127.0.0.1:5432/postgres`).

use anyhow::Context as _;
use platform_config::Env;
use platform_runtime::CancellationToken;
use sqlx::{AssertSqlSafe, Connection as _, Executor as _, PgConnection};

/// The databases the platform needs locally, by the service that owns them.
const AUTH_DATABASE: &str = "platform_auth";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let process = Env::from_process();
    let admin_url = process.or(
        "DEVSTACK_POSTGRES_URL",
        "postgres://postgres@127.0.0.1:5432/postgres".to_owned(),
    )?;
    let auth_url = platform_testkit::database_url(&admin_url, AUTH_DATABASE);
    // Each service reads the same variables it reads in production; devstack only fills in
    // what a laptop would otherwise have to export by hand.
    let env = process.with_defaults(&[("DATABASE_URL", auth_url.as_str())]);

    let auth = auth_service::Settings::from_env(&env)?;
    let gateway = gateway_service::Settings::from_env(&env)?;
    let _telemetry = platform_telemetry::init(&auth.telemetry)?;

    ensure_database(&admin_url, AUTH_DATABASE).await?;
    auth_service::data::migrate(&auth.database).await?;

    let auth = auth_service::App::build(auth).await?;
    let gateway = gateway_service::App::build(gateway).await?;
    tracing::info!(
        gateway = %format!("http://{}", gateway.http_addr()),
        auth_grpc = %auth.grpc_addr(),
        "the platform is up; try: curl http://127.0.0.1:{}/openapi.json",
        gateway.http_addr().port()
    );

    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        platform_runtime::shutdown_signal().await;
        signal.cancel();
    });
    // The gateway drains first so it stops sending work to auth before auth goes away.
    let gateway = tokio::spawn(gateway.run_until(stop.clone().cancelled_owned()));
    let gateway_result = gateway.await.context("the gateway task panicked")?;
    stop.cancel();
    auth.run_until(stop.cancelled_owned()).await?;
    gateway_result
}

/// Creates `name` on the server at `admin_url` unless it exists.
async fn ensure_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(admin_url)
        .await
        .with_context(|| format!("cannot reach Postgres at {admin_url}; is it running?"))?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        // `name` is one of our constants, never input.
        conn.execute(AssertSqlSafe(format!(r#"create database "{name}""#)))
            .await
            .with_context(|| format!("creating database {name}"))?;
        tracing::info!(database = name, "created");
    }
    Ok(())
}
