//! Starting and stopping the long-running parts of a process.
//!
//! On the shutdown signal: readiness turns false, then (after an optional delay that lets load
//! balancers notice) every task is told to stop; servers stop accepting and finish what is in
//! flight; the process waits for all of it, but no longer than the drain deadline.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::Readiness;

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what Kubernetes and Docker send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        // Installing the handler fails only if signals are unavailable; then wait forever.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}

/// The tasks of one service and the token that stops them.
#[derive(Clone)]
pub struct Lifecycle {
    stop: CancellationToken,
    tasks: TaskTracker,
    readiness: Readiness,
    shutdown_delay: Duration,
    drain_deadline: Duration,
    first_error: Arc<Mutex<Option<anyhow::Error>>>,
}

impl Lifecycle {
    pub fn new(readiness: Readiness, shutdown_delay: Duration, drain_deadline: Duration) -> Self {
        Self {
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
            readiness,
            shutdown_delay,
            drain_deadline,
            first_error: Arc::default(),
        }
    }

    /// Runs a long-lived task that must stop when `stop` is cancelled. A task that fails
    /// stops the whole service, so a dead server is never left behind a live process.
    pub fn spawn<F, Fut>(&self, name: &'static str, task: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let stop = self.stop.clone();
        let first_error = self.first_error.clone();
        let fut = task(stop.clone());
        self.tasks.spawn(async move {
            if let Err(e) = fut.await {
                tracing::error!(task = name, error = ?e, "task failed; stopping the service");
                let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
                slot.get_or_insert(e.context(format!("task {name} failed")));
                drop(slot);
                stop.cancel();
            }
        });
    }

    /// A token cancelled when shutdown starts, for work that is not a spawned task.
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Runs until `signal` resolves (or a task fails), then drains within the deadline.
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        tokio::select! {
            () = signal => {}
            () = self.stop.cancelled() => {}
        }
        self.readiness.start_draining();
        if !self.shutdown_delay.is_zero() && !self.stop.is_cancelled() {
            tracing::info!(delay = ?self.shutdown_delay, "not ready; waiting before draining");
            tokio::time::sleep(self.shutdown_delay).await;
        }
        self.stop.cancel();
        self.tasks.close();
        let drained = tokio::time::timeout(self.drain_deadline, self.tasks.wait()).await;
        let first_error = self
            .first_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(e) = first_error {
            return Err(e);
        }
        drained.with_context(|| {
            format!(
                "in-flight work did not finish within the drain deadline of {:?}",
                self.drain_deadline
            )
        })?;
        tracing::info!("drained; exiting");
        Ok(())
    }
}

/// Serves an axum router until `stop` is cancelled, then stops accepting and lets the
/// requests in flight finish. Handlers see the peer address through `ConnectInfo`.
pub async fn serve_http(
    listener: TcpListener,
    router: axum::Router,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop.cancelled_owned())
    .await
    .with_context(|| format!("HTTP server on {addr}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lifecycle(readiness: &Readiness) -> Lifecycle {
        Lifecycle::new(readiness.clone(), Duration::ZERO, Duration::from_secs(5))
    }

    #[tokio::test(start_paused = true)]
    async fn tasks_are_stopped_and_awaited_on_the_signal() {
        let readiness = Readiness::new();
        let lifecycle = lifecycle(&readiness);
        let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = finished.clone();
        lifecycle.spawn("worker", move |stop| async move {
            stop.cancelled().await;
            // Work that takes a while to wind down still gets to finish.
            tokio::time::sleep(Duration::from_secs(1)).await;
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        });
        lifecycle.run_until(async {}).await.unwrap();
        assert!(finished.load(std::sync::atomic::Ordering::SeqCst));
        assert!(readiness.is_draining());
    }

    #[tokio::test(start_paused = true)]
    async fn work_that_outlives_the_drain_deadline_is_an_error() {
        let readiness = Readiness::new();
        let lifecycle = lifecycle(&readiness);
        lifecycle.spawn("stuck", |_stop| std::future::pending());
        let err = lifecycle.run_until(async {}).await.unwrap_err();
        assert!(err.to_string().contains("drain deadline"), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_task_stops_the_service_with_its_error() {
        let readiness = Readiness::new();
        let lifecycle = lifecycle(&readiness);
        lifecycle.spawn("server", |_stop| async { anyhow::bail!("port vanished") });
        let err = lifecycle
            .run_until(std::future::pending())
            .await
            .unwrap_err();
        assert!(format!("{err:#}").contains("port vanished"), "{err:#}");
    }

    #[tokio::test]
    async fn readiness_reports_failed_checks_by_name_and_draining() {
        let readiness = Readiness::new();
        readiness.add_check("db", || async { Ok(()) });
        readiness.add_check("cache", || async { Err("connection refused".to_owned()) });
        let report = readiness.evaluate().await;
        assert!(!report.ready);
        assert_eq!(report.checks["db"], "ok");
        assert_eq!(report.checks["cache"], "connection refused");

        let degraded = Readiness::new();
        degraded.add_degrading_check("region eu", || async { Err("refused".to_owned()) });
        let report = degraded.evaluate().await;
        assert!(
            report.ready && report.degraded,
            "reported, but still in rotation"
        );
        assert_eq!(report.checks["region eu"], "refused");

        let healthy = Readiness::new();
        assert!(healthy.evaluate().await.ready);
        healthy.start_draining();
        assert!(
            !healthy.evaluate().await.ready,
            "a draining replica is not ready"
        );
    }
}
