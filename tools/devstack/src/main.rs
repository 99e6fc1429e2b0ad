//! `cargo run -p platform-devstack`: the whole platform on this machine, in one process.
//! `devstack processes` runs each service as its own process instead (see `processes.rs`),
//! `devstack broker` is the broker process that mode starts, `devstack services` lists
//! the services and their ports, and `devstack topics` the platform's topics (for a broker
//! that does not create them on produce, such as the fault suite's tansu).
//!
//! The services are those with a manifest, `services/NAME/service.toml` (see `manifest.rs`);
//! the one file that names their crates is `services.rs`. It creates the databases their
//! manifests name on the local Postgres if they are missing (`platform_auth`,
//! `platform_user_eu`, …), applies their migrations, starts an embedded Kafka-protocol broker
//! unless `KAFKA_BROKERS` points at a real one, and starts every service on its usual ports,
//! each configured from the environment exactly as in production (defaults point at
//! localhost; objects go to `./data/objects`). Ctrl-C drains all.
//!
//! Variables read, besides every service's own: `DEVSTACK_POSTGRES_URL` and
//! `DEVSTACK_DATABASE_PREFIX` (see `databases.rs`), and for the multi-process run
//! `DEVSTACK_RUN_DIR` and `DEVSTACK_BROKER_ADDRESS`. Each service gets its own databases in
//! the variable its manifest implies (`DATABASE_URL`, which several services read, or
//! `USER_SHARDS`), whatever the environment says; the other variables apply to every service
//! that reads them.

mod broker;
mod databases;
mod processes;
mod signing_key;

use databases::Databases;
use futures::FutureExt as _;
use platform_config::Env;
use platform_devstack::manifest::Manifest;
use platform_devstack::services::Serve;
use platform_kafka::{EmbeddedKafka, events};
use platform_runtime::CancellationToken;

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
        Some("services") => {
            for service in Manifest::all()? {
                println!("{}", service_line(&service));
            }
            return Ok(());
        }
        Some("topics") => {
            for topic in events::TOPICS {
                println!("{topic}");
            }
            return Ok(());
        }
        Some(other) => {
            eprintln!(
                "devstack: unknown command {other:?}; usage: devstack [processes|broker|services|topics]"
            );
            std::process::exit(2);
        }
    }
    one_process(process).await
}

/// The whole platform in this process: its databases, an embedded broker unless one is named,
/// and every service, until Ctrl-C.
async fn one_process(process: Env) -> anyhow::Result<()> {
    let services = Manifest::all()?;
    let databases = Databases::from_env(&process)?;

    // Before reading settings: the broker's address becomes a default like the others.
    let kafka = match process.raw("KAFKA_BROKERS") {
        Some(_) => None,
        None => Some(EmbeddedKafka::start(events::TOPICS)?),
    };
    let brokers = kafka.as_ref().map(|k| k.bootstrap_servers().to_owned());

    // Each service reads the same variables it reads in production; devstack only fills in
    // what a laptop would otherwise have to export by hand, and gives each service its own
    // databases (see `databases.rs`).
    let mut defaults = vec![];
    if let Some(brokers) = &brokers {
        defaults.push(("KAFKA_BROKERS", brokers.as_str()));
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
    databases.create_missing(&services).await?;

    // In start order (a service after those it calls), each migrated, then built.
    let mut built = Vec::new();
    for manifest in &services {
        let service = platform_devstack::services::find(&manifest.name)?;
        let env = databases.env_for(&env, manifest);
        (service.migrate)(env.clone()).await?;
        built.push((manifest.name.clone(), (service.start)(env).await?));
        if let Some(port) = manifest.ports.http {
            tracing::info!("{} serves HTTP at http://127.0.0.1:{port}/", manifest.name);
        }
    }
    let names: Vec<_> = services.iter().map(|s| s.name.as_str()).collect();
    tracing::info!(services = ?names, "the platform is up");
    let result = serve_until_stopped(&services, built).await;
    drop(kafka);
    result
}

/// Serves every built service until Ctrl-C, then drains them in two steps: first the services
/// no other one calls (the gateway, the worker), so nothing sends work upstream while the
/// upstreams go; then the others once those have stopped.
async fn serve_until_stopped(
    services: &[Manifest],
    built: Vec<(String, Serve)>,
) -> anyhow::Result<()> {
    let (front, back): (Vec<_>, Vec<_>) = built
        .into_iter()
        .partition(|(name, _)| !services.iter().any(|s| s.calls.contains(name)));
    let stop_front = CancellationToken::new();
    let stop_back = CancellationToken::new();
    let signal = stop_front.clone();
    tokio::spawn(async move {
        platform_runtime::shutdown_signal().await;
        signal.cancel();
    });
    let front = front.into_iter().map(|(_, serve)| {
        // One of them stopping (an error) stops the platform, as Ctrl-C would.
        let stop = stop_front.clone();
        serve(stop.clone()).inspect(move |_| stop.cancel())
    });
    let front = futures::future::join_all(front).then(|results| async {
        stop_back.cancel();
        results
    });
    let back = back.into_iter().map(|(_, serve)| serve(stop_back.clone()));
    let (front, back) = tokio::join!(front, futures::future::join_all(back));
    front.into_iter().chain(back).collect()
}

/// The native run's own logs: auth's telemetry settings, as every service reads the same.
fn devstack_telemetry(env: &Env) -> anyhow::Result<platform_telemetry::TelemetrySettings> {
    Ok(platform_telemetry::TelemetrySettings::from_env(
        env, "devstack",
    )?)
}

/// `devstack services`: one line per service, its name and the ports it listens on
/// (`auth 50051 9101`), for the harness that waits until a run's ports are free.
fn service_line(service: &Manifest) -> String {
    let ports = [
        service.ports.http,
        service.ports.grpc,
        Some(service.ports.ops),
    ];
    let ports: Vec<String> = ports.into_iter().flatten().map(|p| p.to_string()).collect();
    format!("{} {}", service.name, ports.join(" "))
}
