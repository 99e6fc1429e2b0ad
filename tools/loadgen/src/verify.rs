//! Checking a ledger against the platform: every acknowledged write must have its effect,
//! allowing for effects that arrive asynchronously (the profile comes from an event; an
//! image is processed by the worker).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::Error;
use crate::config::VerifyConfig;
use crate::http::{Api, Body, Outcome, Route};
use crate::ledger::{Account, Ledger, WriteKind};

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
    /// How many writes of each check were verified.
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
    avatar: Option<(String, Vec<String>)>,
    uploads: Vec<String>,
}

#[derive(Deserialize)]
struct Tokens {
    access_token: String,
}

#[derive(Deserialize)]
struct Profile {
    bio: String,
    avatar: Option<AvatarRef>,
}

#[derive(Deserialize)]
struct AvatarRef {
    media_id: String,
}

#[derive(Deserialize)]
struct Media {
    status: String,
    error: Option<String>,
}

/// Checks that every acknowledged write of `ledger` has its effect on the platform at
/// `config.url`, retrying what is not there yet until `config.within` has passed.
///
/// ```no_run
/// # async fn example(ledger: platform_loadgen::Ledger) -> Result<(), platform_loadgen::Error> {
/// use std::time::Duration;
/// use platform_loadgen::VerifyConfig;
/// let config = VerifyConfig { within: Duration::from_secs(30), ..VerifyConfig::new("http://127.0.0.1:8080") };
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
            check_account(&api, e, deadline).await
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

async fn check_account(api: &Api, e: Expected, deadline: Instant) -> Vec<Missing> {
    let user_id = e.account.user_id.clone();
    let miss = |check, media_id: Option<&String>, detail: String| Missing {
        check,
        user_id: user_id.clone(),
        media_id: media_id.cloned(),
        detail,
    };
    let token = match login(api, &e.account, deadline).await {
        Ok(token) => token,
        Err(detail) => {
            let mut missing = vec![miss(Check::Login, None, detail)];
            missing.extend(e.uploads.iter().map(|id| {
                miss(
                    Check::Upload,
                    Some(id),
                    "not checked: the owner cannot log in".into(),
                )
            }));
            return missing;
        }
    };
    let mut missing: Vec<Missing> = check_profile(api, &token, &e, deadline)
        .await
        .into_iter()
        .map(|(check, detail)| {
            let media = e
                .avatar
                .as_ref()
                .filter(|_| check == Check::Avatar)
                .map(|a| &a.0);
            miss(check, media, detail)
        })
        .collect();
    for media_id in &e.uploads {
        if let Err(detail) = check_upload(api, &token, media_id, deadline).await {
            missing.push(miss(Check::Upload, Some(media_id), detail));
        }
    }
    missing
}

/// Logs in; a 401 is final (the account is not there, and retrying wrong logins would only
/// trip the login throttle), anything else is retried until the deadline.
async fn login(api: &Api, account: &Account, deadline: Instant) -> Result<String, String> {
    let mut backoff = Backoff::new(deadline);
    loop {
        let body = json!({ "email": account.email, "password": account.password });
        let outcome = api
            .send(&Route::LOGIN, "/v1/auth/login", None, Body::Json(body))
            .await;
        if let Some(tokens) = outcome.json::<Tokens>() {
            return Ok(tokens.access_token);
        }
        let detail = format!("POST /v1/auth/login: {}", outcome.describe());
        if outcome.status() == Some(reqwest::StatusCode::UNAUTHORIZED)
            || !backoff.wait(&outcome).await
        {
            return Err(detail);
        }
    }
}

/// The profile exists with the expected bio and avatar; else what is wrong, at the deadline.
async fn check_profile(
    api: &Api,
    token: &str,
    e: &Expected,
    deadline: Instant,
) -> Vec<(Check, String)> {
    let mut backoff = Backoff::new(deadline);
    loop {
        let outcome = api
            .send(&Route::ME, "/v1/users/me", Some(token), Body::Empty)
            .await;
        let problems = match outcome.json::<Profile>() {
            None => vec![(
                Check::Profile,
                format!("GET /v1/users/me: {}", outcome.describe()),
            )],
            Some(profile) => profile_problems(&profile, e),
        };
        if problems.is_empty() || !backoff.wait(&outcome).await {
            return problems;
        }
    }
}

fn profile_problems(profile: &Profile, e: &Expected) -> Vec<(Check, String)> {
    let mut problems = Vec::new();
    if let Some((last, unknown)) = &e.bio
        && profile.bio != *last
        && !unknown.contains(&profile.bio)
    {
        problems.push((
            Check::Bio,
            format!(
                "bio is {:?}, the last acknowledged is {last:?}",
                profile.bio
            ),
        ));
    }
    if let Some((last, unknown)) = &e.avatar {
        let shown = profile.avatar.as_ref().map(|a| &a.media_id);
        if shown != Some(last) && !shown.is_some_and(|m| unknown.contains(m)) {
            problems.push((
                Check::Avatar,
                format!("avatar is {shown:?}, the last acknowledged is {last:?}"),
            ));
        }
    }
    problems
}

/// The upload reached `ready`, or `failed` with a reason.
async fn check_upload(
    api: &Api,
    token: &str,
    media_id: &str,
    deadline: Instant,
) -> Result<(), String> {
    let path = format!("/v1/media/{media_id}");
    let mut backoff = Backoff::new(deadline);
    loop {
        let outcome = api
            .send(&Route::MEDIA, &path, Some(token), Body::Empty)
            .await;
        let detail = match outcome.json::<Media>() {
            Some(m) if m.status == "ready" => return Ok(()),
            Some(m) if m.status == "failed" => match m.error {
                Some(reason) if !reason.is_empty() => return Ok(()),
                // Final: a failed image is not processed again.
                _ => return Err("failed without an error reason".into()),
            },
            Some(m) => format!("still {}", m.status),
            None => format!("GET {path}: {}", outcome.describe()),
        };
        if !backoff.wait(&outcome).await {
            return Err(detail);
        }
    }
}

/// Waits between attempts: doubling from 200 ms to 2 s, or the platform's `Retry-After`,
/// never past the deadline.
struct Backoff {
    next: Duration,
    deadline: Instant,
}

impl Backoff {
    fn new(deadline: Instant) -> Self {
        Self {
            next: Duration::from_millis(200),
            deadline,
        }
    }

    /// False when the deadline has passed: stop trying.
    async fn wait(&mut self, outcome: &Outcome) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        let pause = outcome.back_off().unwrap_or(self.next);
        self.next = (self.next * 2).min(Duration::from_secs(2));
        tokio::time::sleep(pause.min(self.deadline - now)).await;
        true
    }
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
