//! `platform-loadgen`: scripted user journeys against a running platform at a URL (the native
//! run, compose, Kubernetes), a report per route, a ledger of every write the platform
//! acknowledged, and a verifier that checks each of them took effect.
//!
//! ```text
//! loadgen run --url http://127.0.0.1:8080 --users 4 --duration 20s --ledger ledger.json
//! loadgen verify --url http://127.0.0.1:8080 --ledger ledger.json --within 60s
//! ```
//!
//! The same as library calls, for a fault-test harness that runs load, breaks something, and
//! then checks that nothing acknowledged was lost:
//!
//! ```no_run
//! # async fn example() -> Result<(), platform_loadgen::Error> {
//! use platform_loadgen::{Load, RunConfig, VerifyConfig};
//! let url = "http://127.0.0.1:8080";
//! let report = platform_loadgen::run(RunConfig::new(url, Load::Users(4))).await?;
//! let verification = platform_loadgen::verify(&VerifyConfig::new(url), &report.ledger).await?;
//! assert!(verification.passed(), "{verification}");
//! # Ok(()) }
//! ```
//!
//! ## Why not goose
//!
//! [goose](https://book.goose.rs) (0.19, Locust-style) was the first choice and was measured:
//! it uses reqwest 0.13 like the workspace, names requests, keeps per-request percentiles,
//! and its transactions can be closures over shared state, so a ledger is possible. It was
//! left out because:
//!
//! - it has no open-loop mode: users and a hatch rate only, with `--throttle-requests` as a
//!   cap, so `--rate` would measure with coordinated omission;
//! - it keeps process-wide state (a Ctrl-C handler that can be installed once, a global
//!   kill switch, a global logger), which a harness calling [`run`] several times in one
//!   process trips over;
//! - its report has no place for the ledger's counts, transport errors apart from timeouts,
//!   or custom route names without converting its metrics;
//! - it brings its own CLI (clap), chrono, regex, websockets, compression and logging: a
//!   clean debug build of goose and tokio alone took 1 min 46 s on our 2-core machine,
//!   this whole crate 57 s (both with rustls and aws-lc, which the workspace builds anyway
//!   for object storage).
//!
//! What is here instead is small: tokio tasks (one per virtual user, or one per scheduled
//! journey), the workspace's reqwest, and an HDR histogram per route.

mod config;
mod http;
mod journeys;
mod ledger;
mod metrics;
mod png;
mod report;
mod rng;
mod run;
mod verify;

use std::path::{Path, PathBuf};

pub use config::{Journey, Load, Mix, RunConfig, VerifyConfig};
pub use http::{Answer, Outcome, Route};
pub use ledger::{Account, Ledger, LedgerSummary, NewAccount, UnknownWrite, Upload, WriteKind};
pub use metrics::Metrics;
pub use png::{noisy_png, tiny_png};
pub use report::{Report, RouteReport};
pub use run::{run, run_until};
pub use verify::{Check, Missing, Verification, verify};

/// Why a run or a verification could not be done at all (lost writes are not an error: they
/// are in the [`Verification`]).
///
/// ```
/// use platform_loadgen::{Error, Mix};
/// assert!(matches!("dance=1".parse::<Mix>(), Err(Error::Config(_))));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is invalid; the message names it.
    #[error("{0}")]
    Config(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Writes `bytes` to `path` whole or not at all: a reader never sees half a ledger.
///
/// ```
/// let path = std::env::temp_dir().join(format!("loadgen-doc-{}.json", std::process::id()));
/// platform_loadgen::write_atomically(&path, b"{}").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"{}");
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, bytes).map_err(|e| Error::io(&temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| Error::io(path, e))
}
