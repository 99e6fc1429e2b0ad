//! `cargo run -p platform-devstack`: the whole platform on this machine, in one process.
//!
//! It creates the services' databases on the local Postgres if they are missing (auth's,
//! media's, one per user region, and one per service added with `just new-service`, named
//! `platform_<service>`), applies their migrations, starts an embedded
//! Kafka-protocol broker unless `KAFKA_BROKERS` points at a real one, and starts every service
//! and the media worker on their usual ports, each configured from the environment exactly as
//! in production (defaults point at localhost; objects go to `./data/objects`). Ctrl-C drains
//! all.
//!
//! Variables read, besides every service's own: `DEVSTACK_POSTGRES_URL` (the server to
//! create databases on, default `postgres://postgres@127.0.0.1:5432/postgres`). Auth and media
//! both read `DATABASE_URL`, so devstack hands each its own database and ignores that
//! variable; the other variables apply to every service that reads them.

use anyhow::Context as _;
use platform_config::Env;
use platform_kafka::EmbeddedKafka;
use platform_runtime::CancellationToken;
use sqlx::{AssertSqlSafe, Connection as _, Executor as _, PgConnection};

/// The auth service's database.
const AUTH_DATABASE: &str = "platform_auth";
/// The media service's database.
const MEDIA_DATABASE: &str = "platform_media";
/// The user service's regions, each in a database of its own, as in production.
const USER_REGIONS: [&str; 2] = ["eu", "us"];
/// The topics the platform uses; the embedded broker creates them (and their dead-letter topics).
const TOPICS: [&str; 3] = ["user.registered", "media.uploaded", "media.processed"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let process = Env::from_process();
    let admin_url = process.or(
        "DEVSTACK_POSTGRES_URL",
        "postgres://postgres@127.0.0.1:5432/postgres".to_owned(),
    )?;
    let auth_url = platform_testkit::database_url(&admin_url, AUTH_DATABASE);
    let media_url = platform_testkit::database_url(&admin_url, MEDIA_DATABASE);
    let user_shards = USER_REGIONS
        .iter()
        .map(|region| {
            let database = format!("platform_user_{region}");
            format!(
                "{region}={}",
                platform_testkit::database_url(&admin_url, &database)
            )
        })
        .collect::<Vec<_>>()
        .join(",");

    // Before reading settings: the broker's address becomes a default like the others.
    let kafka = match process.raw("KAFKA_BROKERS") {
        Some(_) => None,
        None => Some(EmbeddedKafka::start(&TOPICS)?),
    };
    let brokers = kafka.as_ref().map(|k| k.bootstrap_servers().to_owned());

    // Each service reads the same variables it reads in production; devstack only fills in
    // what a laptop would otherwise have to export by hand. Auth and media each have their
    // own database, both read from DATABASE_URL.
    let mut defaults = vec![("USER_SHARDS", user_shards.as_str())];
    if let Some(brokers) = &brokers {
        defaults.push(("KAFKA_BROKERS", brokers));
    }
    let env = process.with_defaults(&defaults);
    let auth = auth_service::Settings::from_env(
        &env.clone().with_overrides(&[("DATABASE_URL", &auth_url)]),
    )?;
    let media = media_service::Settings::from_env(
        &env.clone().with_overrides(&[("DATABASE_URL", &media_url)]),
    )?;
    let worker = media_worker::Settings::from_env(&env)?;
    let user = user_service::Settings::from_env(&env)?;
    let gateway = gateway_service::Settings::from_env(&env)?;
    let _telemetry = platform_telemetry::init(&auth.telemetry)?;
    if let Some(brokers) = &brokers {
        tracing::warn!(
            %brokers,
            "KAFKA_BROKERS is not set: using an embedded broker that keeps nothing on disk"
        );
    }

    ensure_database(&admin_url, AUTH_DATABASE).await?;
    ensure_database(&admin_url, MEDIA_DATABASE).await?;
    for region in USER_REGIONS {
        ensure_database(&admin_url, &format!("platform_user_{region}")).await?;
    }
    auth_service::data::migrate(&auth.database_url, &auth.database).await?;
    media_service::data::migrate(&media.database_url, &media.database).await?;
    user_service::data::Shards::connect(&user.shards, &user.database)?
        .migrate_all()
        .await?;

    let auth = auth_service::App::build(auth).await?;
    let media = media_service::App::build(media).await?;
    let worker = media_worker::App::build(worker).await?;
    let user = user_service::App::build(user).await?;
    let gateway = gateway_service::App::build(gateway).await?;

    // Services added with `just new-service`, each with a database of its own: the generator
    // inserts one block per service above the marker line.
    let stop = CancellationToken::new();
    let added: Vec<Running> = vec![
        // new-service: generated services are started above this line.
    ];
    tracing::info!(
        gateway = %format!("http://{}", gateway.http_addr()),
        auth_grpc = %auth.grpc_addr(),
        user_grpc = %user.grpc_addr(),
        media_grpc = %media.grpc_addr(),
        "the platform is up; try: curl http://127.0.0.1:{}/openapi.json",
        gateway.http_addr().port()
    );

    let signal = stop.clone();
    tokio::spawn(async move {
        platform_runtime::shutdown_signal().await;
        signal.cancel();
    });
    // The gateway drains first so it stops sending work upstream before the upstreams go.
    let gateway_result = gateway.run_until(stop.clone().cancelled_owned()).await;
    stop.cancel();
    let (auth_result, user_result, media_result, worker_result, added_results) = tokio::join!(
        auth.run_until(stop.clone().cancelled_owned()),
        user.run_until(stop.clone().cancelled_owned()),
        media.run_until(stop.clone().cancelled_owned()),
        worker.run_until(stop.cancelled_owned()),
        futures::future::join_all(added),
    );
    drop(kafka);
    added_results.into_iter().fold(
        gateway_result
            .and(auth_result)
            .and(user_result)
            .and(media_result)
            .and(worker_result),
        anyhow::Result::and,
    )
}

/// A built service serving until the stop token is cancelled.
type Running = std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send>>;

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
        // `name` is built from our constants, never from input.
        conn.execute(AssertSqlSafe(format!(r#"create database "{name}""#)))
            .await
            .with_context(|| format!("creating database {name}"))?;
        tracing::info!(database = name, "created");
    }
    Ok(())
}
