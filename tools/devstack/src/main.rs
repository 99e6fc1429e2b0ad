//! `cargo run -p platform-devstack`: the whole platform on this machine, in one process.
//! `devstack processes` runs each service as its own process instead (see `processes.rs`), and
//! `devstack broker` is the broker process that mode starts.
//!
//! It creates the services' databases on the local Postgres if they are missing (auth's,
//! media's, one per user region, and one per service added with `just new-service`, named
//! `platform_<service>`), applies their migrations, starts an embedded
//! Kafka-protocol broker unless `KAFKA_BROKERS` points at a real one, and starts every service
//! and the media worker on their usual ports, each configured from the environment exactly as
//! in production (defaults point at localhost; objects go to `./data/objects`). Ctrl-C drains
//! all.
//!
//! Variables read, besides every service's own: `DEVSTACK_POSTGRES_URL` and
//! `DEVSTACK_DATABASE_PREFIX` (see `databases.rs`), and for the multi-process run
//! `DEVSTACK_RUN_DIR` and `DEVSTACK_BROKER_ADDRESS`. Auth and media both read `DATABASE_URL`,
//! so devstack hands each its own database and ignores that variable; the other variables
//! apply to every service that reads them.

mod broker;
mod databases;
mod processes;
mod signing_key;

use databases::Databases;
use platform_config::Env;
use platform_kafka::EmbeddedKafka;
use platform_runtime::CancellationToken;

/// The topics the platform uses; the embedded broker creates them (and their dead-letter topics).
const TOPICS: [&str; 3] = ["user.registered", "media.uploaded", "media.processed"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let process = Env::from_process();
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("processes") => {
            let _telemetry = platform_telemetry::init(&devstack_telemetry(&process)?)?;
            return processes::run(&process).await;
        }
        Some("broker") => {
            let _telemetry = platform_telemetry::init(&devstack_telemetry(&process)?)?;
            let address = process.or(
                "DEVSTACK_BROKER_ADDRESS",
                broker::DEFAULT_ADDRESS.to_owned(),
            )?;
            return broker::run(&address).await;
        }
        Some(other) => {
            eprintln!("devstack: unknown command {other:?}; usage: devstack [processes|broker]");
            std::process::exit(2);
        }
    }
    let databases = Databases::from_env(&process)?;
    let user_shards = databases.user_shards();

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
    let key_file = signing_key::default_file(&process)?;
    if let Some(key_file) = &key_file {
        defaults.push(("AUTH_SIGNING_KEY_FILE", key_file));
    }
    let env = process.with_defaults(&defaults);
    let _telemetry = platform_telemetry::init(&devstack_telemetry(&env)?)?;
    if let Some(brokers) = &brokers {
        tracing::warn!(
            %brokers,
            "KAFKA_BROKERS is not set: using an embedded broker that keeps nothing; the \
             services' outboxes publish again what a restarted broker has not seen"
        );
    }
    let databases::Prepared {
        auth,
        media,
        worker,
        user,
        gateway,
    } = databases.prepare(&env).await?;

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

/// The native run's own logs: auth's telemetry settings, as every service reads the same.
fn devstack_telemetry(env: &Env) -> anyhow::Result<platform_telemetry::TelemetrySettings> {
    Ok(platform_telemetry::TelemetrySettings::from_env(
        env, "devstack",
    )?)
}

/// A built service serving until the stop token is cancelled.
type Running = std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send>>;
