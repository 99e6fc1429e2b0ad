//! Checking a ledger against the platform: every acknowledged write must have its effect,
//! allowing for effects that arrive asynchronously (the profile comes from an event; an
//! image is processed by the worker).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::Error;
use crate::config::VerifyConfig;
use crate::http::Api;
use crate::ledger::{Account, Ledger, WriteKind};

mod account;

/// What is checked, and where a missing effect shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The registered account logs in with its password.
    Login,
    /// `GET /v1/users/me` answers 200.
    Profile,
    /// The profile shows the last acknowledged bio.
    Bio,
    /// The profile's `avatar.media_id` is the last acknowledged avatar.
    Avatar,
    /// The upload reached `ready`, or `failed` with an `error` reason.
    Upload,
}

/// One acknowledged write without its effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Missing {
    pub check: Check,
    pub user_id: String,
    /// The upload or avatar concerned.
    pub media_id: Option<String>,
    /// What was seen last, e.g. `GET /v1/users/me: 404`.
    pub detail: String,
}

/// The result of [`verify`].
///
/// ```no_run
/// # async fn example() -> Result<(), platform_loadgen::Error> {
/// use platform_loadgen::{Ledger, VerifyConfig};
/// let ledger = Ledger::load("ledger.json".as_ref())?;
/// let verification =
///     platform_loadgen::verify(&VerifyConfig::new("http://127.0.0.1:8080"), &ledger).await?;
/// println!("{verification}");
/// assert!(verification.passed(), "acknowledged writes were lost");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// How many of each check the ledger called for (an account that cannot log in has its
    /// other checks reported under `login`).
    pub checked: BTreeMap<Check, usize>,
    /// Every acknowledged write whose effect never showed within the time allowed.
    pub missing: Vec<Missing>,
    /// Writes without an acknowledgement: not checked, never counted as lost.
    pub unknown_writes: usize,
    pub elapsed_seconds: f64,
}

impl Verification {
    /// True when nothing acknowledged is missing.
    pub fn passed(&self) -> bool {
        self.missing.is_empty()
    }

    /// How many are missing for `check`.
    pub fn missing_count(&self, check: Check) -> usize {
        self.missing.iter().filter(|m| m.check == check).count()
    }
}

/// What one account must show.
struct Expected {
    account: Account,
    /// The last acknowledged bio, and the bios of unknown writes (they may have landed).
    bio: Option<(String, Vec<String>)>,
    /// Likewise for the avatar's media id.
    avatar: Option<(String, Vec<String>)>,
    /// Media ids of the account's acknowledged uploads.
    uploads: Vec<String>,
}

/// Checks that every acknowledged write of `ledger` has its effect on the platform at
/// `config.url`, retrying what is not there yet until `config.within` has passed.
///
/// ```no_run
/// # async fn example(ledger: platform_loadgen::Ledger) -> Result<(), platform_loadgen::Error> {
/// use std::time::Duration;
/// use platform_loadgen::VerifyConfig;
/// let config = VerifyConfig {
///     within: Duration::from_secs(30),
///     ..VerifyConfig::new("http://127.0.0.1:8080")
/// };
/// let verification = platform_loadgen::verify(&config, &ledger).await?;
/// # Ok(()) }
/// ```
pub async fn verify(config: &VerifyConfig, ledger: &Ledger) -> Result<Verification, Error> {
    let api = Api::new(&config.url, config.timeout, None)?;
    let started = Instant::now();
    let deadline = started + config.within;
    let (expected, mut missing) = expectations(ledger);

    let mut checked = BTreeMap::new();
    for e in &expected {
        *checked.entry(Check::Login).or_default() += 1;
        *checked.entry(Check::Profile).or_default() += 1;
        *checked.entry(Check::Bio).or_default() += usize::from(e.bio.is_some());
        *checked.entry(Check::Avatar).or_default() += usize::from(e.avatar.is_some());
    }
    checked.insert(Check::Upload, ledger.uploads.len());

    let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for e in expected {
        let (api, permits) = (api.clone(), permits.clone());
        tasks.spawn(async move {
            // The semaphore is never closed, so a permit always comes.
            let _permit = permits.acquire_owned().await;
            account::check(&api, e, deadline).await
        });
    }
    while let Some(found) = tasks.join_next().await {
        match found {
            Ok(found) => missing.extend(found),
            // A check that panicked proves nothing: let it be seen.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    missing.sort_by(|a, b| (a.check, &a.user_id).cmp(&(b.check, &b.user_id)));
    Ok(Verification {
        checked,
        missing,
        unknown_writes: ledger.unknown.len(),
        elapsed_seconds: started.elapsed().as_secs_f64(),
    })
}

/// What each account must show; uploads whose owner never registered are missing at once.
fn expectations(ledger: &Ledger) -> (Vec<Expected>, Vec<Missing>) {
    let others = |kind, user: &str| -> Vec<String> {
        ledger
            .unknown_values(kind, user)
            .into_iter()
            .map(str::to_owned)
            .collect()
    };
    let mut expected: Vec<Expected> = ledger
        .users
        .iter()
        .map(|account| {
            let id = account.user_id.as_str();
            Expected {
                account: account.clone(),
                bio: ledger
                    .bios
                    .get(id)
                    .map(|bio| (bio.clone(), others(WriteKind::Bio, id))),
                avatar: ledger
                    .avatars
                    .get(id)
                    .map(|media| (media.clone(), others(WriteKind::Avatar, id))),
                uploads: Vec::new(),
            }
        })
        .collect();
    let mut missing = Vec::new();
    for upload in &ledger.uploads {
        match expected
            .iter_mut()
            .find(|e| e.account.user_id == upload.owner)
        {
            Some(e) => e.uploads.push(upload.media_id.clone()),
            None => missing.push(Missing {
                check: Check::Upload,
                user_id: upload.owner.clone(),
                media_id: Some(upload.media_id.clone()),
                detail: "not checked: its owner is not among the ledger's accounts".into(),
            }),
        }
    }
    (expected, missing)
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let checked: Vec<String> = self
            .checked
            .iter()
            .map(|(check, n)| format!("{n} {}", check.name()))
            .collect();
        writeln!(
            f,
            "verify: checked {} in {:.1}s; {} unknown writes (error or no answer) not checked",
            checked.join(", "),
            self.elapsed_seconds,
            self.unknown_writes
        )?;
        if self.passed() {
            return write!(f, "OK: every acknowledged write has its effect");
        }
        write!(
            f,
            "LOST: {} acknowledged writes have no effect",
            self.missing.len()
        )?;
        for check in self.checked.keys() {
            let missing: Vec<&Missing> =
                self.missing.iter().filter(|m| m.check == *check).collect();
            if missing.is_empty() {
                continue;
            }
            write!(f, "\n  {}: {} missing", check.name(), missing.len())?;
            for m in missing.iter().take(3) {
                let media = m
                    .media_id
                    .as_deref()
                    .map(|id| format!(" {id}"))
                    .unwrap_or_default();
                write!(f, "\n    {}{media}: {}", m.user_id, m.detail)?;
            }
        }
        Ok(())
    }
}

impl Check {
    fn name(self) -> &'static str {
        match self {
            Check::Login => "logins",
            Check::Profile => "profiles",
            Check::Bio => "bios",
            Check::Avatar => "avatars",
            Check::Upload => "uploads",
        }
    }
}
