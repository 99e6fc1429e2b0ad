//! `devstack processes`: the platform with each service (those with a manifest,
//! `services/NAME/service.toml`) as its own process, sharing one broker process, as
//! production runs it. This process creates and migrates the databases, starts the broker
//! (`devstack broker`) unless `KAFKA_BROKERS` names one, starts every service binary (named
//! after its service) with its configuration, and restarts any child that exits, the way a
//! process manager or Kubernetes would. Ctrl-C stops the gateway first, then the services,
//! then the broker.
//!
//! The service binaries are looked for next to this one (`cargo build --bins` builds them all).
//! Each child's pid is written to `DEVSTACK_RUN_DIR/<name>.pid` (default `./data/run`), so a
//! fault test or a curious developer can `kill -9` one and watch it come back. While a file
//! `DEVSTACK_RUN_DIR/<name>.hold` exists, a child that exited is not started again: that is how
//! to keep one down for a while (`touch data/run/broker.hold; kill -9 …; sleep 30; rm …`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use platform_config::Env;
use platform_runtime::CancellationToken;
use tokio::process::{Child, Command};

use platform_devstack::manifest::Manifest;

use crate::broker;
use crate::databases::Databases;

/// How long a child that exited waits before it is started again.
const RESTART_DELAY: Duration = Duration::from_millis(500);
/// How often a held process's hold file is looked at.
const HOLD_POLL: Duration = Duration::from_millis(100);
/// How long a child may take to stop on SIGTERM before it is killed.
const STOP_DEADLINE: Duration = Duration::from_secs(20);
/// How long the broker may take to accept connections.
const BROKER_START_DEADLINE: Duration = Duration::from_secs(30);

/// One supervised process: its name (the binary's), arguments and extra variables.
#[derive(Debug, Clone)]
struct Spec {
    name: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

/// glibc's initial mmap threshold (bytes), kept fixed for every child (see the Dockerfile).
const MMAP_THRESHOLD: &str = "131072";

pub async fn run(env: &Env) -> anyhow::Result<()> {
    let databases = Databases::from_env(env)?;
    let run_dir = PathBuf::from(env.or("DEVSTACK_RUN_DIR", "data/run".to_owned())?);
    std::fs::create_dir_all(&run_dir).with_context(|| format!("creating {}", run_dir.display()))?;
    let bin_dir = std::env::current_exe()
        .context("finding the devstack binary")?
        .parent()
        .map(Path::to_path_buf)
        .context("the devstack binary has no directory")?;

    let broker_address = env.or(
        "DEVSTACK_BROKER_ADDRESS",
        broker::DEFAULT_ADDRESS.to_owned(),
    )?;
    let embedded = env.raw("KAFKA_BROKERS").is_none();
    let brokers = env
        .raw("KAFKA_BROKERS")
        .map_or_else(|| broker_address.clone(), str::to_owned);
    let services = Manifest::all()?;
    let shared = env.clone().with_defaults(&[("KAFKA_BROKERS", &brokers)]);
    databases.create_missing(&services).await?;

    let mut common = vec![("KAFKA_BROKERS".to_owned(), brokers.clone())];
    // As the Dockerfile sets it: glibc's mmap threshold stays at 128 KiB, so large buffers go
    // back to the system when freed instead of drifting RSS upwards. glibc's own variable, not
    // the platform's configuration: one exported in the shell is left as it is.
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        common.push((
            "MALLOC_MMAP_THRESHOLD_".to_owned(),
            MMAP_THRESHOLD.to_owned(),
        ));
    }
    if let Some(key_file) = crate::signing_key::default_file(env)? {
        common.push(("AUTH_SIGNING_KEY_FILE".to_owned(), key_file));
    }
    let mut specs = Vec::new();
    if embedded {
        specs.push(Spec {
            name: "devstack".to_owned(),
            args: vec!["broker".to_owned()],
            env: vec![("DEVSTACK_BROKER_ADDRESS".to_owned(), broker_address.clone())],
        });
    }
    // In start order (a service after those it calls), each migrated first, as its
    // migration one-shot does in compose.
    for manifest in &services {
        let service = platform_devstack::services::find(&manifest.name)?;
        (service.migrate)(databases.env_for(&shared, manifest)).await?;
        let mut env = common.clone();
        env.extend(databases.variable(manifest));
        specs.push(Spec {
            name: manifest.name.clone(),
            args: vec![],
            env,
        });
    }
    for spec in &specs {
        let path = bin_dir.join(&spec.name);
        anyhow::ensure!(
            path.exists(),
            "{} is missing: build every service binary first (cargo build --bins, or --release \
             for release binaries)",
            path.display()
        );
    }

    let mut supervisors = Vec::new();
    for spec in specs {
        let label = if spec.name == "devstack" {
            "broker".to_owned()
        } else {
            spec.name.clone()
        };
        let program = bin_dir.join(&spec.name);
        let pid_file = run_dir.join(format!("{label}.pid"));
        let stop = CancellationToken::new();
        let is_broker = label == "broker";
        let supervisor = tokio::spawn(supervise(label, program, spec, pid_file, stop.clone()));
        supervisors.push((stop, supervisor));
        if is_broker {
            wait_for_broker(&broker_address).await?;
        }
    }
    tracing::info!(
        run_dir = %run_dir.display(),
        "every service runs as its own process; kill one and it is restarted"
    );

    platform_runtime::shutdown_signal().await;
    // In reverse order of start: the gateway first so it stops sending work upstream, the
    // broker last.
    for (stop, supervisor) in supervisors.into_iter().rev() {
        stop.cancel();
        let _ = supervisor.await;
    }
    Ok(())
}

/// Keeps `spec` running until it is told to stop, restarting it whenever it exits.
async fn supervise(
    label: String,
    program: PathBuf,
    spec: Spec,
    pid_file: PathBuf,
    stop: CancellationToken,
) {
    loop {
        let mut child = match Command::new(&program)
            .args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .kill_on_drop(true)
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                tracing::error!(process = %label, error = %e, "cannot start the process");
                if wait_or_stop(RESTART_DELAY, &stop).await {
                    return;
                }
                continue;
            }
        };
        let pid = child.id();
        if let Some(pid) = pid {
            let _ = std::fs::write(&pid_file, format!("{pid}\n"));
            tracing::info!(process = %label, pid, "started");
        }
        tokio::select! {
            status = child.wait() => {
                tracing::warn!(process = %label, status = ?status.ok(), "exited; starting it again");
                if wait_or_stop(RESTART_DELAY, &stop).await {
                    return;
                }
                let hold = pid_file.with_extension("hold");
                while hold.exists() {
                    if wait_or_stop(HOLD_POLL, &stop).await {
                        return;
                    }
                }
            }
            () = stop.cancelled() => {
                terminate(&label, &mut child, pid).await;
                let _ = std::fs::remove_file(&pid_file);
                return;
            }
        }
    }
}

/// SIGTERM (the services drain), then SIGKILL after the deadline.
async fn terminate(label: &str, child: &mut Child, pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|pid| i32::try_from(pid).ok()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    }
    match tokio::time::timeout(STOP_DEADLINE, child.wait()).await {
        Ok(_) => tracing::info!(process = label, "stopped"),
        Err(_) => {
            tracing::warn!(
                process = label,
                "did not stop within {STOP_DEADLINE:?}; killing it"
            );
            let _ = child.kill().await;
        }
    }
}

async fn wait_for_broker(address: &str) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + BROKER_START_DEADLINE;
    while tokio::net::TcpStream::connect(address).await.is_err() {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the broker did not listen on {address} within {BROKER_START_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Waits `delay` unless `stop` comes first; returns whether it did.
async fn wait_or_stop(delay: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        () = stop.cancelled() => true,
        () = tokio::time::sleep(delay) => false,
    }
}
