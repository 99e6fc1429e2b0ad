//! Counting requests while a run goes: per route, a latency histogram and the outcomes.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::http::Outcome;
use crate::report::RouteReport;

/// Latencies are kept in microseconds, from 1 µs to an hour, at 3 significant figures: a
/// percentile is off by at most 0.1 %, in a few tens of kilobytes per route.
const HIGHEST_MICROS: u64 = 3_600_000_000;

/// Every request of a run, per route. Shared by all virtual users; the lock is held only to
/// add one sample, never across an `.await`.
///
/// ```
/// use std::time::Duration;
/// use platform_loadgen::{Metrics, Outcome, Route};
///
/// let metrics = Metrics::default();
/// metrics.record(Route::USER.name, Duration::from_millis(3), &Outcome::answer(200, "{}"));
/// metrics.record(Route::USER.name, Duration::from_millis(5), &Outcome::answer(404, "{}"));
/// let routes = metrics.routes(Duration::from_secs(1));
/// assert_eq!(routes[0].requests, 2);
/// assert_eq!(routes[0].errors[&404], 1);
/// ```
#[derive(Debug, Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<&'static str, RouteStats>>,
}

/// One route's counts so far.
#[derive(Debug, Clone)]
pub(crate) struct RouteStats {
    /// Latency of every request that got an answer, whatever its status.
    latency: Histogram<u64>,
    requests: u64,
    ok: u64,
    errors: BTreeMap<u16, u64>,
    timeouts: u64,
    transport_errors: u64,
}

impl Default for RouteStats {
    fn default() -> Self {
        Self {
            // Fixed, valid bounds: 1 ≤ low, high ≥ 2·low, sigfig ≤ 5.
            latency: Histogram::new_with_bounds(1, HIGHEST_MICROS, 3).expect("valid bounds"),
            requests: 0,
            ok: 0,
            errors: BTreeMap::new(),
            timeouts: 0,
            transport_errors: 0,
        }
    }
}

impl Metrics {
    /// Counts one request of `route` that took `latency` and came to `outcome`.
    pub fn record(&self, route: &'static str, latency: Duration, outcome: &Outcome) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let stats = routes.entry(route).or_default();
        stats.requests += 1;
        match outcome {
            Outcome::Answer(answer) => {
                stats.latency.saturating_record(micros.max(1));
                if answer.status.is_success() {
                    stats.ok += 1;
                } else {
                    *stats.errors.entry(answer.status.as_u16()).or_default() += 1;
                }
            }
            // No answer, so no latency: a timeout would only show the timeout setting.
            Outcome::Timeout => stats.timeouts += 1,
            Outcome::Transport(_) => stats.transport_errors += 1,
        }
    }

    /// Requests so far and how many of them failed (any non-2xx, timeout or transport error).
    pub fn totals(&self) -> (u64, u64) {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        routes
            .values()
            .fold((0, 0), |(n, e), s| (n + s.requests, e + s.requests - s.ok))
    }

    /// One line per route, in name order, with rates over `elapsed`.
    pub fn routes(&self, elapsed: Duration) -> Vec<RouteReport> {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        routes
            .iter()
            .map(|(name, stats)| stats.report(name, elapsed))
            .collect()
    }

    /// All routes together.
    pub fn total(&self, elapsed: Duration) -> RouteReport {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let mut all = RouteStats::default();
        for stats in routes.values() {
            all.merge(stats);
        }
        all.report("total", elapsed)
    }
}

impl RouteStats {
    fn merge(&mut self, other: &RouteStats) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.requests += other.requests;
        self.ok += other.ok;
        for (status, n) in &other.errors {
            *self.errors.entry(*status).or_default() += n;
        }
        self.timeouts += other.timeouts;
        self.transport_errors += other.transport_errors;
    }

    fn report(&self, name: &str, elapsed: Duration) -> RouteReport {
        let ms = |micros: u64| micros as f64 / 1000.0;
        let quantile = |q: f64| {
            if self.latency.is_empty() {
                0.0
            } else {
                ms(self.latency.value_at_quantile(q))
            }
        };
        let seconds = elapsed.as_secs_f64();
        RouteReport {
            route: name.to_owned(),
            requests: self.requests,
            per_second: if seconds > 0.0 {
                self.requests as f64 / seconds
            } else {
                0.0
            },
            ok: self.ok,
            p50_ms: quantile(0.50),
            p90_ms: quantile(0.90),
            p99_ms: quantile(0.99),
            max_ms: ms(self.latency.max()),
            errors: self.errors.clone(),
            timeouts: self.timeouts,
            transport_errors: self.transport_errors,
        }
    }
}
