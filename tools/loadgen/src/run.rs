//! Running journeys for a while: closed loop (N users back to back) or open loop (journeys
//! started at a fixed rate), then the report.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::config::{Load, RunConfig};
use crate::http::Api;
use crate::journeys::{Shared, VirtualUser};
use crate::ledger::Ledger;
use crate::metrics::Metrics;
use crate::report::Report;
use crate::rng::Rng;

/// Journey picks draw from their own random streams, apart from the users' own choices.
const MIX_STREAM: u64 = 0x6D69_7800;

/// Runs the configured load for `config.duration` and reports it; the acknowledged writes
/// are in [`Report::ledger`].
///
/// ```no_run
/// # async fn example() -> Result<(), platform_loadgen::Error> {
/// use platform_loadgen::{Load, RunConfig};
/// let report = platform_loadgen::run(RunConfig::new("http://127.0.0.1:8080", Load::Users(4))).await?;
/// assert!(report.total.requests > 0);
/// # Ok(()) }
/// ```
pub async fn run(config: RunConfig) -> Result<Report, Error> {
    run_until(config, std::future::pending()).await
}

/// [`run`], stopped early when `stop` completes (the CLI passes Ctrl-C): no new request is
/// sent, the ones in flight finish, and the report and ledger cover everything sent.
///
/// ```no_run
/// # async fn example() -> Result<(), platform_loadgen::Error> {
/// use platform_loadgen::{Load, RunConfig};
/// let config = RunConfig::new("http://127.0.0.1:8080", Load::Users(4));
/// let report = platform_loadgen::run_until(config, async {
///     let _ = tokio::signal::ctrl_c().await;
/// }).await?;
/// # Ok(()) }
/// ```
pub async fn run_until(config: RunConfig, stop: impl Future<Output = ()>) -> Result<Report, Error> {
    config.check()?;
    let metrics = Arc::new(Metrics::default());
    let api = Api::new(&config.url, config.timeout, Some(metrics.clone()))?;
    let shared = Arc::new(Shared {
        api,
        config: config.clone(),
        run_id: run_id(),
        ledger: Mutex::new(Ledger::default()),
        directory: Mutex::new(Vec::new()),
        journeys: Mutex::new(BTreeMap::new()),
        writes: AtomicU64::new(0),
        stop: CancellationToken::new(),
    });
    let started = Instant::now();
    let timer = async {
        tokio::select! {
            () = tokio::time::sleep(config.duration) => {}
            () = stop => {}
        }
        shared.stop.cancel();
    };
    let work = async {
        match config.load {
            Load::Users(n) => {
                closed_loop(&shared, n).await;
                0
            }
            Load::Rate {
                per_second,
                max_in_flight,
            } => open_loop(&shared, per_second, max_in_flight).await,
        }
    };
    let ((), dropped, ()) = tokio::join!(timer, work, progress(&shared, &metrics, started));
    let elapsed = started.elapsed();

    let ledger = std::mem::take(&mut *shared.ledger());
    let journeys = shared
        .journeys
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|(name, n)| ((*name).to_owned(), *n))
        .collect();
    Ok(Report {
        url: config.url.clone(),
        load: config.load.to_string(),
        seed: config.seed,
        elapsed_seconds: elapsed.as_secs_f64(),
        routes: metrics.routes(elapsed),
        total: metrics.total(elapsed),
        journeys,
        journeys_dropped: dropped,
        ledger_summary: ledger.summary(),
        ledger,
    })
}

/// `n` users, each registering and then running journeys back to back until the run stops.
async fn closed_loop(shared: &Arc<Shared>, users: u32) {
    let mut tasks = JoinSet::new();
    for index in 0..u64::from(users) {
        let shared = shared.clone();
        tasks.spawn(async move {
            let Some(mut user) = VirtualUser::register(&shared, index).await else {
                return;
            };
            let mut picks = Rng::derive(shared.config.seed ^ MIX_STREAM, index);
            while !shared.stopping() {
                let journey = shared.config.mix.pick(&mut picks);
                user.journey(&shared, journey).await;
            }
        });
    }
    // Each user stops between requests, so this ends within one request timeout of the stop.
    while tasks.join_next().await.is_some() {}
}

/// Journeys started `per_second`, whatever the latency, on idle accounts (new ones are
/// registered as needed). Returns how many were dropped because `max_in_flight` ran.
async fn open_loop(shared: &Arc<Shared>, per_second: f64, max_in_flight: u32) -> u64 {
    let idle: Arc<Mutex<Vec<VirtualUser>>> = Arc::default();
    let accounts = Arc::new(AtomicU64::new(0));
    let mut picks = Rng::derive(shared.config.seed ^ MIX_STREAM, u64::MAX);
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    // Late ticks are caught up at once: an open loop keeps its schedule, it does not slow down.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut tasks = JoinSet::new();
    let mut dropped = 0;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = shared.stop.cancelled() => break,
        }
        while tasks.try_join_next().is_some() {}
        if tasks.len() >= max_in_flight as usize {
            dropped += 1;
            continue;
        }
        let journey = shared.config.mix.pick(&mut picks);
        let (shared, idle, accounts) = (shared.clone(), idle.clone(), accounts.clone());
        tasks.spawn(async move {
            let ready = idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let user = match ready {
                Some(user) => Some(user),
                None => {
                    let index = accounts.fetch_add(1, Ordering::Relaxed);
                    VirtualUser::register(&shared, index).await
                }
            };
            if let Some(mut user) = user {
                user.journey(&shared, journey).await;
                idle.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(user);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    dropped
}

/// A line on stderr every 5 s while the run goes, when asked for.
async fn progress(shared: &Shared, metrics: &Metrics, started: Instant) {
    if !shared.config.progress {
        return;
    }
    let mut ticker = tokio::time::interval(Duration::from_secs(5));
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = shared.stop.cancelled() => return,
        }
        let (requests, errors) = metrics.totals();
        let accounts = shared.ledger().users.len();
        eprintln!(
            "loadgen: {:>5.0}s  {requests} requests, {errors} errors, {accounts} accounts",
            started.elapsed().as_secs_f64()
        );
    }
}

/// Unique per run, even for runs started in the same millisecond by one process: the time
/// in milliseconds and a process-wide counter, in hex.
fn run_id() -> String {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{millis:x}-{:x}", RUNS.fetch_add(1, Ordering::Relaxed))
}
