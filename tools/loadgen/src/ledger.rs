//! The ledger: every write the platform acknowledged (2xx), so [`verify`](crate::verify) can
//! check later that each one took effect. A write that got an error or no answer may or may
//! not have happened: it is kept apart as unknown, and never counted as lost.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::http::Outcome;

/// The acknowledged writes of one run (or several, merged by a harness), as saved by
/// `--ledger`.
///
/// ```
/// use platform_loadgen::{Ledger, NewAccount, Outcome};
///
/// let mut ledger = Ledger::default();
/// let account = NewAccount { email: "a@example.com".into(), password: "secret-123".into(),
///     display_name: "A".into(), region: "eu".into() };
/// ledger.record_registration(&account, &Outcome::answer(201, r#"{"user_id":"eu_1"}"#));
/// ledger.record_bio("eu_1", "first", &Outcome::answer(200, "{}"));
/// ledger.record_bio("eu_1", "second", &Outcome::Timeout);
/// assert_eq!(ledger.bios["eu_1"], "first");
/// assert_eq!(ledger.unknown.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// Acknowledged registrations, in order.
    pub users: Vec<Account>,
    /// User id → the last acknowledged bio.
    pub bios: BTreeMap<String, String>,
    /// Acknowledged uploads, in order.
    pub uploads: Vec<Upload>,
    /// User id → the media id of the last acknowledged avatar.
    pub avatars: BTreeMap<String, String>,
    /// Writes that got an error or no answer: they may or may not have happened.
    pub unknown: Vec<UnknownWrite>,
}

/// What a registration sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub display_name: String,
    pub region: String,
}

/// An acknowledged registration: enough to log in again and check the profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub user_id: String,
    pub email: String,
    pub password: String,
    pub display_name: String,
    pub region: String,
}

/// An acknowledged upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub media_id: String,
    /// The uploader's user id.
    pub owner: String,
}

/// Which kind of write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteKind {
    Registration,
    Bio,
    Upload,
    Avatar,
}

/// A write without an acknowledgement: an error status, a timeout or a broken connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownWrite {
    pub kind: WriteKind,
    /// The writer (`None` for a registration, whose id was never learnt).
    pub user_id: Option<String>,
    /// The email of a registration, the bio, or the media id of an avatar; `None` for an
    /// upload, whose id was never learnt.
    pub value: Option<String>,
    /// `503`, `timeout`, `transport error: …`, or why a 2xx body could not be read.
    pub error: String,
}

/// How many writes of each kind the ledger holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerSummary {
    pub registrations: usize,
    pub bios: usize,
    pub uploads: usize,
    pub avatars: usize,
    pub unknown: usize,
}

#[derive(Deserialize)]
struct Registered {
    user_id: String,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

impl Ledger {
    /// Records a registration; returns the account when it was acknowledged.
    pub fn record_registration(
        &mut self,
        account: &NewAccount,
        outcome: &Outcome,
    ) -> Option<Account> {
        let Registered { user_id } = self.acknowledged(outcome, || UnknownWrite {
            kind: WriteKind::Registration,
            user_id: None,
            value: Some(account.email.clone()),
            error: String::new(),
        })?;
        let account = Account {
            user_id,
            email: account.email.clone(),
            password: account.password.clone(),
            display_name: account.display_name.clone(),
            region: account.region.clone(),
        };
        self.users.push(account.clone());
        Some(account)
    }

    /// Records a bio change of `user_id`; the last acknowledged one is what the profile
    /// must show.
    pub fn record_bio(&mut self, user_id: &str, bio: &str, outcome: &Outcome) {
        if outcome.acknowledged() {
            self.bios.insert(user_id.to_owned(), bio.to_owned());
        } else {
            self.unknown(WriteKind::Bio, Some(user_id), Some(bio), outcome.describe());
        }
    }

    /// Records an upload by `owner`; returns the media id when it was acknowledged.
    pub fn record_upload(&mut self, owner: &str, outcome: &Outcome) -> Option<String> {
        let Created { id } = self.acknowledged(outcome, || UnknownWrite {
            kind: WriteKind::Upload,
            user_id: Some(owner.to_owned()),
            value: None,
            error: String::new(),
        })?;
        self.uploads.push(Upload {
            media_id: id.clone(),
            owner: owner.to_owned(),
        });
        Some(id)
    }

    /// Records `media_id` set as the avatar of `user_id`.
    pub fn record_avatar(&mut self, user_id: &str, media_id: &str, outcome: &Outcome) {
        if outcome.acknowledged() {
            self.avatars.insert(user_id.to_owned(), media_id.to_owned());
        } else {
            self.unknown(
                WriteKind::Avatar,
                Some(user_id),
                Some(media_id),
                outcome.describe(),
            );
        }
    }

    /// Values of unknown writes of `kind` by `user_id`: any of them may be what the platform
    /// holds now, since an unanswered write can still land after a later acknowledged one.
    pub fn unknown_values(&self, kind: WriteKind, user_id: &str) -> Vec<&str> {
        self.unknown
            .iter()
            .filter(|u| u.kind == kind && u.user_id.as_deref() == Some(user_id))
            .filter_map(|u| u.value.as_deref())
            .collect()
    }

    pub fn summary(&self) -> LedgerSummary {
        LedgerSummary {
            registrations: self.users.len(),
            bios: self.bios.len(),
            uploads: self.uploads.len(),
            avatars: self.avatars.len(),
            unknown: self.unknown.len(),
        }
    }

    /// Adds another ledger's writes, e.g. of several runs against the same platform.
    pub fn merge(&mut self, other: Ledger) {
        self.users.extend(other.users);
        self.bios.extend(other.bios);
        self.uploads.extend(other.uploads);
        self.avatars.extend(other.avatars);
        self.unknown.extend(other.unknown);
    }

    /// Reads a ledger saved by [`Ledger::save`].
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::Config(format!("{} is not a ledger: {e}", path.display())))
    }

    /// Writes the ledger as JSON, whole or not at all (through a temporary file and a rename).
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        // Plain data with string keys: serialising cannot fail.
        let json = serde_json::to_string_pretty(self).expect("a ledger serialises");
        crate::write_atomically(path, json.as_bytes())
    }

    /// The parsed body of an acknowledged write; otherwise records it as unknown. A 2xx whose
    /// body cannot be read is unknown too: the write happened, but what it created is not known.
    fn acknowledged<T: serde::de::DeserializeOwned>(
        &mut self,
        outcome: &Outcome,
        unknown: impl FnOnce() -> UnknownWrite,
    ) -> Option<T> {
        let error = if outcome.acknowledged() {
            match outcome.json::<T>() {
                Some(parsed) => return Some(parsed),
                None => format!("unreadable {} body", outcome.describe()),
            }
        } else {
            outcome.describe()
        };
        self.unknown.push(UnknownWrite { error, ..unknown() });
        None
    }

    fn unknown(&mut self, kind: WriteKind, user: Option<&str>, value: Option<&str>, error: String) {
        self.unknown.push(UnknownWrite {
            kind,
            user_id: user.map(str::to_owned),
            value: value.map(str::to_owned),
            error,
        });
    }
}

impl fmt::Display for LedgerSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "acknowledged: {} registrations, {} users with a bio, {} uploads, {} avatars; \
             unknown (error or no answer, not checked): {}",
            self.registrations, self.bios, self.uploads, self.avatars, self.unknown
        )
    }
}
