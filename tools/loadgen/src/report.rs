//! What a run did: per route, requests, rate, latency percentiles and errors; the journeys;
//! what the ledger holds. Printed as a table, and written as JSON with `--report`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ledger::{Ledger, LedgerSummary};

/// The result of [`run`](crate::run).
///
/// ```no_run
/// # async fn example() -> Result<(), platform_loadgen::Error> {
/// use platform_loadgen::{Load, RunConfig};
/// let report = platform_loadgen::run(RunConfig::new("http://127.0.0.1:8080", Load::Users(4))).await?;
/// println!("{report}");
/// report.ledger.save("ledger.json".as_ref())?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub url: String,
    /// `users=4` (closed loop) or `rate=10/s` (open loop).
    pub load: String,
    pub seed: u64,
    /// Seconds from the first request to the last answer.
    pub elapsed_seconds: f64,
    /// One line per route, in name order.
    pub routes: Vec<RouteReport>,
    pub total: RouteReport,
    /// Journeys completed, by name (`register` counts accounts created).
    pub journeys: BTreeMap<String, u64>,
    /// Open loop only: journeys not started because `max_in_flight` were already running.
    pub journeys_dropped: u64,
    pub ledger_summary: LedgerSummary,
    /// The acknowledged writes themselves; saved apart (`--ledger`), so not in the JSON.
    #[serde(skip)]
    pub ledger: Ledger,
}

/// One route (or the total) over a whole run. Latencies are of answered requests, in
/// milliseconds; timeouts and transport errors have none and are counted apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteReport {
    /// `METHOD /templated/path`, e.g. `GET /v1/users/{id}`, or `total`.
    pub route: String,
    pub requests: u64,
    pub per_second: f64,
    /// Answers with a 2xx status.
    pub ok: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Non-2xx answers by status code.
    pub errors: BTreeMap<u16, u64>,
    pub timeouts: u64,
    pub transport_errors: u64,
}

impl Report {
    /// The report as pretty JSON (what `--report PATH` writes).
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialising cannot fail.
        serde_json::to_string_pretty(self).expect("a report serialises")
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "loadgen: {} against {} for {:.1}s (seed {})",
            self.load, self.url, self.elapsed_seconds, self.seed
        )?;
        let width = self
            .routes
            .iter()
            .map(|r| r.route.len())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(
            f,
            "{:<width$} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}  errors",
            "route", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"
        )?;
        for route in self.routes.iter().chain(std::iter::once(&self.total)) {
            writeln!(
                f,
                "{:<width$} {:>8} {:>8.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2}  {}",
                route.route,
                route.requests,
                route.per_second,
                route.p50_ms,
                route.p90_ms,
                route.p99_ms,
                route.max_ms,
                route.error_summary()
            )?;
        }
        let journeys: Vec<String> = self
            .journeys
            .iter()
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        write!(f, "journeys: {}", journeys.join(", "))?;
        if self.journeys_dropped > 0 {
            write!(
                f,
                " (dropped, too many in flight: {})",
                self.journeys_dropped
            )?;
        }
        writeln!(f)?;
        write!(f, "ledger: {}", self.ledger_summary)
    }
}

impl RouteReport {
    /// `-` when none, else e.g. `404×3 503×1 timeout×2`.
    pub fn error_summary(&self) -> String {
        let mut parts: Vec<String> = self
            .errors
            .iter()
            .map(|(status, n)| format!("{status}×{n}"))
            .collect();
        if self.timeouts > 0 {
            parts.push(format!("timeout×{}", self.timeouts));
        }
        if self.transport_errors > 0 {
            parts.push(format!("transport×{}", self.transport_errors));
        }
        if parts.is_empty() {
            "-".into()
        } else {
            parts.join(" ")
        }
    }
}
