//! The fault suite: the platform as users run it (the `devstack` binary, in one process or one
//! process per service), under load from the load generator, while processes are SIGKILLed
//! and its databases, Redis and broker are taken away the way operations would. After each
//! scenario every write the platform acknowledged is checked ([`platform_loadgen::verify`]):
//! nothing acknowledged may be lost.
//!
//! ```text
//! cargo build --bins && target/debug/faults              # the full profile (just faults)
//! target/debug/faults --profile ci                         # the short one CI runs
//! target/debug/faults --only broker-outage,region-outage   # some scenarios
//! target/debug/faults --tansu                              # against tansu, not the embedded broker
//! ```
//!
//! Each scenario is in [`scenarios`]; what they showed is in `docs/reliability.md`. The suite
//! uses the usual ports (8080, 9100…, 9092) and a Redis of its own on 6391: run nothing else
//! on them meanwhile.

mod load;
pub mod redis;
pub mod scenarios;
pub mod tansu;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use scenarios::SCENARIOS;

/// How hard the suite pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Every scenario once, short outages (10 s), 5 service kills and 1 kill of the whole run:
    /// what CI runs.
    Ci,
    /// 20 service kills, 5 kills of the whole run, 30 s outages.
    Full,
}

impl Profile {
    /// How long an outage lasts.
    pub fn outage(self) -> Duration {
        match self {
            Self::Ci => Duration::from_secs(10),
            Self::Full => Duration::from_secs(30),
        }
    }

    /// Rounds of killing every service process once.
    pub fn kill_rounds(self) -> u32 {
        match self {
            Self::Ci => 1,
            Self::Full => 4,
        }
    }

    /// Kills of the whole one-process run.
    pub fn run_kills(self) -> u32 {
        match self {
            Self::Ci => 1,
            Self::Full => 5,
        }
    }
}

/// What a scenario needs: the `devstack` binary (the service binaries next to it), the
/// profile, and the broker.
#[derive(Debug, Clone)]
pub struct Context {
    pub devstack: PathBuf,
    pub profile: Profile,
    /// Against tansu ([`tansu::Tansu`], one per scenario) instead of the native run's embedded
    /// broker.
    pub tansu: bool,
}

/// What one scenario did and saw: a row of `docs/reliability.md`.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub scenario: &'static str,
    pub layout: &'static str,
    /// The load held, e.g. `4 users, 48 req/s`.
    pub load: String,
    /// The faults injected, e.g. `5 SIGKILLs (user, media, …)`.
    pub faults: String,
    /// Acknowledged writes: registrations, bios, uploads, avatars (and probes of its own).
    pub acknowledged: String,
    /// Acknowledged writes whose effect never showed.
    pub lost: usize,
    /// The longest time from the end of a fault until the platform served again.
    pub recovery: Duration,
    /// Non-2xx answers by status, timeouts and transport errors seen by the load.
    pub errors: String,
    /// What was checked besides the ledger, each with what it found.
    pub checks: Vec<String>,
    /// Why the scenario failed; empty when it passed.
    pub failures: Vec<String>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.lost == 0
    }

    /// `failure` unless `ok`.
    pub fn expect(&mut self, ok: bool, failure: impl Into<String>) {
        if !ok {
            self.failures.push(failure.into());
        }
    }

    /// Records what a check saw (`seen`, a line of the report), and `failure` unless `ok`.
    pub fn check(&mut self, seen: impl Into<String>, ok: bool, failure: impl Into<String>) {
        self.checks.push(seen.into());
        self.expect(ok, failure);
    }

    /// The table's header, in Markdown.
    pub fn header() -> &'static str {
        "| scenario | layout | load | faults | acknowledged | lost | recovery | errors seen | result |\n\
         |---|---|---|---|---|---:|---:|---|---|"
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "| {} | {} | {} | {} | {} | {} | {:.1} s | {} | {} |",
            self.scenario,
            self.layout,
            self.load,
            self.faults,
            self.acknowledged,
            self.lost,
            self.recovery.as_secs_f64(),
            self.errors,
            if self.passed() { "pass" } else { "FAIL" }
        )
    }
}

/// Kills and reaps the server in `child`, if one runs: Redis or tansu taken away.
pub(crate) fn kill_server(child: &mut Option<std::process::Child>) {
    if let Some(mut child) = child.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Waits until something accepts connections on `address` (a server the suite started),
/// for at most 10 s.
pub(crate) async fn until_listening(address: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(address).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("nothing listens on {address}")
}

/// `status×count` pairs, e.g. `503×12, timeouts×0`.
fn describe_errors(errors: &BTreeMap<u16, u64>, timeouts: u64, transport: u64) -> String {
    let mut parts: Vec<String> = errors
        .iter()
        .map(|(status, n)| format!("{status}×{n}"))
        .collect();
    if timeouts > 0 {
        parts.push(format!("timeouts×{timeouts}"));
    }
    if transport > 0 {
        parts.push(format!("refused/reset×{transport}"));
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}
