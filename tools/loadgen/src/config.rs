//! What a run and a verification are told: the URL, the load, the journey mix, the limits.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::Error;

/// One scripted journey of a virtual user (who registered its own account first).
///
/// ```
/// use platform_loadgen::Journey;
/// assert_eq!("upload_avatar".parse::<Journey>().unwrap(), Journey::UploadAvatar);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Journey {
    /// `POST /v1/auth/login` with the account's own password.
    Login,
    /// `GET /v1/users/me`.
    ReadMe,
    /// `PATCH /v1/users/me` with a bio no other write of the run uses.
    UpdateBio,
    /// `GET /v1/users/{id}` of an account another virtual user registered.
    ReadOther,
    /// `POST /v1/media` of a small PNG, `GET /v1/media/{id}` until `ready` or `failed`
    /// (bounded), then `PUT /v1/users/me/avatar` when ready.
    UploadAvatar,
    /// `POST /v1/media` of a 256×256 noise PNG, without waiting for it: uploads arrive faster
    /// than the worker processes them, which is what fills the upload backlog.
    Upload,
}

impl Journey {
    pub const ALL: [Journey; 6] = [
        Journey::Login,
        Journey::ReadMe,
        Journey::UpdateBio,
        Journey::ReadOther,
        Journey::UploadAvatar,
        Journey::Upload,
    ];

    /// The name in `--mix` and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Journey::Login => "login",
            Journey::ReadMe => "read_me",
            Journey::UpdateBio => "update_bio",
            Journey::ReadOther => "read_other",
            Journey::UploadAvatar => "upload_avatar",
            Journey::Upload => "upload",
        }
    }
}

impl FromStr for Journey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Journey::ALL
            .into_iter()
            .find(|j| j.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Journey::ALL.iter().map(|j| j.name()).collect();
                Error::Config(format!(
                    "unknown journey {s:?}; one of: {}",
                    names.join(", ")
                ))
            })
    }
}

impl fmt::Display for Journey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How often each journey is picked, relative to the others.
///
/// ```
/// use platform_loadgen::{Journey, Mix};
/// let mix: Mix = "read_me=3,update_bio=1".parse().unwrap();
/// assert_eq!(mix.weight(Journey::ReadMe), 3);
/// assert_eq!(mix.weight(Journey::Login), 0); // a journey not listed is not run
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    weights: Vec<(Journey, u32)>,
}

impl Default for Mix {
    /// Mostly reads, some writes, a few uploads and logins:
    /// `login=1,read_me=4,update_bio=2,read_other=4,upload_avatar=1`.
    fn default() -> Self {
        Self {
            weights: vec![
                (Journey::Login, 1),
                (Journey::ReadMe, 4),
                (Journey::UpdateBio, 2),
                (Journey::ReadOther, 4),
                (Journey::UploadAvatar, 1),
            ],
        }
    }
}

impl Mix {
    pub fn weight(&self, journey: Journey) -> u32 {
        self.weights
            .iter()
            .find(|(j, _)| *j == journey)
            .map_or(0, |(_, w)| *w)
    }

    fn total(&self) -> u64 {
        self.weights.iter().map(|(_, w)| u64::from(*w)).sum()
    }

    /// The journey at `ticket` in `0..total`, walking the weights in order.
    pub(crate) fn pick(&self, rng: &mut crate::rng::Rng) -> Journey {
        let mut ticket = rng.below(self.total());
        for (journey, weight) in &self.weights {
            if ticket < u64::from(*weight) {
                return *journey;
            }
            ticket -= u64::from(*weight);
        }
        // Unreachable: ticket < total, the sum of the weights.
        Journey::ReadMe
    }
}

impl FromStr for Mix {
    type Err = Error;

    /// `name=weight,…`; listed journeys only, at least one weight above zero.
    fn from_str(s: &str) -> Result<Self, Error> {
        let mut weights = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| Error::Config(format!("--mix: {part:?} is not name=weight")))?;
            let journey: Journey = name.trim().parse()?;
            let weight: u32 = weight.trim().parse().map_err(|_| {
                Error::Config(format!("--mix: weight of {name} is not a whole number"))
            })?;
            weights.retain(|(j, _)| *j != journey);
            weights.push((journey, weight));
        }
        let mix = Mix { weights };
        if mix.total() == 0 {
            return Err(Error::Config(
                "--mix: give at least one journey a weight above 0".into(),
            ));
        }
        Ok(mix)
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .weights
            .iter()
            .map(|(j, w)| format!("{j}={w}"))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// How much load a run puts on the platform.
///
/// ```
/// use platform_loadgen::Load;
/// let closed = Load::Users(8);                                  // 8 users, back to back
/// let open = Load::Rate { per_second: 20.0, max_in_flight: 256 }; // 20 journeys a second
/// # let _ = (closed, open);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Load {
    /// Closed loop: this many virtual users, each running one journey after another.
    Users(u32),
    /// Open loop: journeys started at this rate whatever the platform's latency, on idle
    /// accounts (a new one is registered when none is idle). A journey due while
    /// `max_in_flight` are running is dropped and counted, so the run stays bounded.
    Rate { per_second: f64, max_in_flight: u32 },
}

impl fmt::Display for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Load::Users(n) => write!(f, "users={n}"),
            Load::Rate { per_second, .. } => write!(f, "rate={per_second}/s"),
        }
    }
}

/// Everything [`run`](crate::run) needs. [`RunConfig::new`] fills in the defaults of the CLI.
///
/// ```
/// use std::time::Duration;
/// use platform_loadgen::{Load, RunConfig};
/// let config = RunConfig {
///     duration: Duration::from_secs(10),
///     ..RunConfig::new("http://127.0.0.1:8080", Load::Users(2))
/// };
/// assert_eq!(config.regions, ["eu", "us"]);
/// ```
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The gateway's base URL; nothing else is ever contacted (redirects are not followed).
    pub url: String,
    pub load: Load,
    /// How long journeys are started for; requests in flight then finish (each within
    /// `timeout`).
    pub duration: Duration,
    /// Per request, from sending to the whole answer read.
    pub timeout: Duration,
    /// Seeds every random choice (journeys, other users to read); emails stay unique per run.
    pub seed: u64,
    /// Regions accounts are registered in, in turn.
    pub regions: Vec<String>,
    pub mix: Mix,
    /// Print a progress line to stderr every 5 s.
    pub progress: bool,
}

impl RunConfig {
    /// 30 s, a 10 s timeout, seed 1, regions `eu` and `us`, the default mix, no progress.
    pub fn new(url: impl Into<String>, load: Load) -> Self {
        Self {
            url: url.into(),
            load,
            duration: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            seed: 1,
            regions: vec!["eu".into(), "us".into()],
            mix: Mix::default(),
            progress: false,
        }
    }

    pub(crate) fn check(&self) -> Result<(), Error> {
        match self.load {
            Load::Users(0) => return Err(Error::Config("--users must be at least 1".into())),
            Load::Rate { per_second, .. } if !(per_second > 0.0 && per_second.is_finite()) => {
                return Err(Error::Config("--rate must be above 0".into()));
            }
            Load::Rate {
                max_in_flight: 0, ..
            } => return Err(Error::Config("--max-in-flight must be at least 1".into())),
            _ => {}
        }
        if self.regions.is_empty() || self.regions.iter().any(|r| r.trim().is_empty()) {
            return Err(Error::Config("--regions needs at least one region".into()));
        }
        if self.timeout.is_zero() {
            return Err(Error::Config("--timeout must be above 0".into()));
        }
        Ok(())
    }
}

/// Everything [`verify`](crate::verify) needs.
///
/// ```
/// use platform_loadgen::VerifyConfig;
/// let config = VerifyConfig::new("http://127.0.0.1:8080");
/// assert_eq!(config.within.as_secs(), 60);
/// ```
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    pub url: String,
    /// How long effects may take to appear: checks that fail are retried until this much
    /// time has passed since the verification began. Every check is tried at least once,
    /// however long the ledger.
    pub within: Duration,
    /// Per request.
    pub timeout: Duration,
    /// Accounts checked at once.
    pub concurrency: usize,
}

impl VerifyConfig {
    /// 60 s to converge, a 10 s request timeout, 16 accounts at once.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            within: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            concurrency: 16,
        }
    }
}
