//! Readiness: whether this replica should receive traffic now.
//!
//! It is false while draining, and false when a required dependency check fails (the
//! database, an upstream service), so an orchestrator routes around a replica that cannot do
//! its job. A *degrading* check is reported but keeps the replica in rotation: when the
//! failure is the same on every replica (one region's database, an optional cache), taking
//! replicas out would turn a partial outage into a total one.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// What a dependency check returns: `Err` with a short reason when the dependency is unusable.
pub type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

type Check = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// A check that runs `check` on its own clone of `client` each time: how a library offers its
/// client's round trip as a check for [`Readiness::add_check`] without every caller writing the
/// clone-and-box adapter.
///
/// ```
/// use platform_runtime::{Readiness, check_on};
///
/// async fn ping(url: String) -> Result<(), String> {
///     if url.is_empty() { Err("no url".to_owned()) } else { Ok(()) }
/// }
/// let readiness = Readiness::new();
/// readiness.add_check("upstream", check_on(&"http://upstream".to_owned(), ping));
/// ```
pub fn check_on<C, F, Fut>(client: &C, check: F) -> impl Fn() -> CheckFuture + Send + Sync + 'static
where
    C: Clone + Send + Sync + 'static,
    F: Fn(C) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let client = client.clone();
    move || Box::pin(check(client.clone()))
}

/// A check that takes longer than this counts as failed.
const CHECK_DEADLINE: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Criticality {
    Required,
    Degrading,
}

/// Shared readiness state; cheap to clone.
#[derive(Clone, Default)]
pub struct Readiness {
    draining: CancellationToken,
    checks: Arc<std::sync::RwLock<Vec<(String, Check, Criticality)>>>,
}

/// The outcome of one readiness evaluation.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub ready: bool,
    /// A degrading check failed: some requests fail, but other replicas would fare no better.
    pub degraded: bool,
    pub draining: bool,
    /// Each check by name: `"ok"` or the reason it failed.
    pub checks: BTreeMap<String, String>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a dependency check, run on every `/readyz` with a deadline of its own; while it
    /// fails the replica is not ready.
    pub fn add_check<F, Fut>(&self, name: impl Into<String>, check: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.add(name.into(), check, Criticality::Required);
    }

    /// Adds a check that is reported, and marks the replica degraded, but keeps it ready.
    pub fn add_degrading_check<F, Fut>(&self, name: impl Into<String>, check: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.add(name.into(), check, Criticality::Degrading);
    }

    fn add<F, Fut>(&self, name: String, check: F, criticality: Criticality)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let check: Check = Arc::new(move || Box::pin(check()));
        self.checks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push((name, check, criticality));
    }

    /// Marks the replica as leaving: readiness is false from now on.
    pub fn start_draining(&self) {
        self.draining.cancel();
    }

    pub fn is_draining(&self) -> bool {
        self.draining.is_cancelled()
    }

    /// Resolves once draining starts, for servers that report health their own way (gRPC).
    pub async fn draining(&self) {
        self.draining.cancelled().await;
    }

    /// Runs every check concurrently.
    pub async fn evaluate(&self) -> Report {
        let checks: Vec<_> = self
            .checks
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let results = futures::future::join_all(checks.into_iter().map(
            |(name, check, criticality)| async move {
                let outcome = match tokio::time::timeout(CHECK_DEADLINE, check()).await {
                    Ok(Ok(())) => "ok".to_owned(),
                    Ok(Err(reason)) => reason,
                    Err(_) => format!("no answer within {CHECK_DEADLINE:?}"),
                };
                (name, outcome, criticality)
            },
        ))
        .await;
        let failing = |wanted: Criticality| {
            results
                .iter()
                .any(|(_, outcome, criticality)| *criticality == wanted && outcome != "ok")
        };
        let draining = self.is_draining();
        Report {
            ready: !draining && !failing(Criticality::Required),
            degraded: failing(Criticality::Degrading),
            draining,
            checks: results
                .into_iter()
                .map(|(name, outcome, _)| (name, outcome))
                .collect(),
        }
    }
}
