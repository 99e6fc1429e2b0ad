//! Typed configuration from environment variables, with errors that name the variable.
//!
//! Every service reads its settings through [`Env`] once, before anything binds, and stops
//! with a [`ConfigError`] naming the first missing or invalid variable. Values of secrets
//! never appear in an error or a log.
//!
//! ```
//! use platform_config::Env;
//! use std::time::Duration;
//!
//! let env = Env::from_pairs([("HTTP_PORT", "8080"), ("TIMEOUT", "250ms")]);
//! let port: u16 = env.required("HTTP_PORT")?;
//! let timeout = env.duration_or("TIMEOUT", Duration::from_secs(1))?;
//! assert_eq!((port, timeout), (8080, Duration::from_millis(250)));
//! assert!(env.required::<u16>("MISSING").unwrap_err().to_string().contains("MISSING"));
//! # Ok::<(), platform_config::ConfigError>(())
//! ```
//!
//! An `Env` also records the name of every variable asked for, set or not
//! ([`Env::names_read`]), so a tool can list what a service reads without a hand-kept list.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Display;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

mod parts;

pub use parts::{PartSettings, Parts, ReadPart};
pub use secrecy::{ExposeSecret, SecretString};

/// Why the configuration could not be loaded. The message always names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name} is required but not set")]
    Missing { name: String },
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: String, reason: String },
}

impl ConfigError {
    /// An invalid value, for checks a service makes after parsing (ranges, combinations).
    pub fn invalid(name: &str, reason: impl Display) -> Self {
        Self::Invalid {
            name: name.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// A snapshot of environment variables to read typed settings from.
///
/// Tests build one from pairs instead of touching the process environment.
///
/// Clones share one record of the names read (see [`Env::names_read`]).
#[derive(Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
    names_read: Arc<Mutex<BTreeSet<String>>>,
}

impl std::fmt::Debug for Env {
    // Values may be secrets: show only which variables are present.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("Env").field("names", &names).finish()
    }
}

impl Env {
    /// The process environment. Variables that are not valid UTF-8 are reported as invalid
    /// when read, not silently skipped.
    pub fn from_process() -> Self {
        let vars = std::env::vars_os()
            .map(|(k, v)| {
                let value = v
                    .into_string()
                    .unwrap_or_else(|_| "\u{FFFD}not UTF-8".into());
                (k.to_string_lossy().into_owned(), value)
            })
            .collect();
        Self::with_vars(vars)
    }

    /// A fixed set of variables, for tests and tools.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let vars = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self::with_vars(vars)
    }

    fn with_vars(vars: HashMap<String, String>) -> Self {
        Self {
            vars,
            names_read: Arc::default(),
        }
    }

    /// This environment with `defaults` filled in for the variables it does not set, so a
    /// tool can supply local defaults while every explicit setting still wins.
    pub fn with_defaults(mut self, defaults: &[(&str, &str)]) -> Self {
        for (name, value) in defaults {
            // `lookup`, not `raw`: filling in a default is not the service reading it.
            if self.lookup(name).is_none() {
                self.vars.insert((*name).to_owned(), (*value).to_owned());
            }
        }
        self
    }

    /// This environment with `overrides` set whatever it said, for a tool that runs several
    /// services in one process and must give each its own value of a shared name.
    ///
    /// ```
    /// use platform_config::Env;
    /// let env = Env::from_pairs([("DATABASE_URL", "postgres://db/auth")]);
    /// let media = env.clone().with_overrides(&[("DATABASE_URL", "postgres://db/media")]);
    /// assert_eq!(media.raw("DATABASE_URL"), Some("postgres://db/media"));
    /// assert_eq!(env.raw("DATABASE_URL"), Some("postgres://db/auth"));
    /// ```
    pub fn with_overrides(mut self, overrides: &[(&str, &str)]) -> Self {
        for (name, value) in overrides {
            self.vars.insert((*name).to_owned(), (*value).to_owned());
        }
        self
    }

    /// The names of every variable asked for so far through this `Env` or a clone of it, by
    /// any accessor and whether or not it was set, sorted. Tools use it to list the variables
    /// a service reads (`cargo run -p platform-devstack --bin env-vars`), so deployment files
    /// can be checked against the code instead of against a hand-kept list.
    ///
    /// ```
    /// use platform_config::Env;
    /// use std::time::Duration;
    ///
    /// let env = Env::from_pairs([("HTTP_PORT", "8080")]);
    /// let settings = env.clone(); // a clone records into the same list
    /// settings.required::<u16>("HTTP_PORT")?;
    /// settings.duration_or("TIMEOUT", Duration::from_secs(1))?; // unset, but still read
    /// assert_eq!(env.names_read(), ["HTTP_PORT", "TIMEOUT"]);
    /// # Ok::<(), platform_config::ConfigError>(())
    /// ```
    pub fn names_read(&self) -> Vec<String> {
        self.names_read
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// The raw value, treating an empty string as unset (as shells and compose files do).
    ///
    /// Every other accessor reads through this one, so this is where names are recorded.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.names_read
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned());
        self.lookup(name)
    }

    /// The value without recording the read.
    fn lookup(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A value that must be present and parse as `T`.
    pub fn required<T>(&self, name: &str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.optional(name)?.ok_or_else(|| ConfigError::Missing {
            name: name.to_owned(),
        })
    }

    /// A value that may be absent; when present it must parse as `T`.
    pub fn optional<T>(&self, name: &str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.raw(name)
            .map(|raw| {
                raw.parse().map_err(|e| ConfigError::Invalid {
                    name: name.to_owned(),
                    reason: format!("{raw:?}: {e}"),
                })
            })
            .transpose()
    }

    /// A value with a default used when the variable is unset.
    pub fn or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        Ok(self.optional(name)?.unwrap_or(default))
    }

    /// A count that must be at least 1 (a limit, a pool or queue size), with a default: `0`
    /// is refused by name, as a value that does not parse is.
    ///
    /// ```
    /// use platform_config::Env;
    ///
    /// let env = Env::from_pairs([("WORKERS", "0")]);
    /// assert!(env.count_or("WORKERS", 4u32).unwrap_err().to_string().contains("WORKERS"));
    /// assert_eq!(env.count_or("QUEUE", 16u32).unwrap(), 16);
    /// ```
    pub fn count_or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr + Default + PartialEq,
        T::Err: Display,
    {
        let count = self.or(name, default)?;
        if count == T::default() {
            return Err(ConfigError::invalid(name, "must be at least 1"));
        }
        Ok(count)
    }

    /// A duration such as `250ms`, `5s` or `15m`, with a default.
    pub fn duration_or(&self, name: &str, default: Duration) -> Result<Duration, ConfigError> {
        match self.raw(name) {
            None => Ok(default),
            Some(raw) => humantime::parse_duration(raw).map_err(|e| ConfigError::Invalid {
                name: name.to_owned(),
                reason: format!("{raw:?} is not a duration like 250ms, 5s or 15m: {e}"),
            }),
        }
    }

    /// A boolean: `true`/`false`, `1`/`0`, `yes`/`no`.
    pub fn flag_or(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.raw(name).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("true" | "1" | "yes") => Ok(true),
            Some("false" | "0" | "no") => Ok(false),
            Some(other) => Err(ConfigError::invalid(
                name,
                format!("{other:?} is not one of true, false, 1, 0, yes, no"),
            )),
        }
    }

    /// A comma-separated list, trimmed, empty items dropped; the default when unset.
    pub fn list_or(&self, name: &str, default: &[&str]) -> Vec<String> {
        match self.raw(name) {
            None => default.iter().map(|s| (*s).to_owned()).collect(),
            Some(raw) => raw
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    /// A secret that must be present. Its value never appears in errors or `Debug` output.
    pub fn secret(&self, name: &str) -> Result<SecretString, ConfigError> {
        self.secret_opt(name).ok_or_else(|| ConfigError::Missing {
            name: name.to_owned(),
        })
    }

    /// A secret that may be absent.
    pub fn secret_opt(&self, name: &str) -> Option<SecretString> {
        self.raw(name).map(SecretString::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_number_names_the_variable_and_the_value() {
        let env = Env::from_pairs([("PORT", "eighty")]);
        let err = env.required::<u16>("PORT").unwrap_err().to_string();
        assert!(err.contains("PORT") && err.contains("eighty"), "{err}");
    }

    #[test]
    fn an_empty_variable_counts_as_unset() {
        let env = Env::from_pairs([("NAME", "")]);
        assert!(matches!(
            env.required::<String>("NAME"),
            Err(ConfigError::Missing { .. })
        ));
        assert_eq!(env.or("NAME", 3u8).unwrap(), 3);
    }

    #[test]
    fn a_bad_duration_is_refused_with_a_hint() {
        let env = Env::from_pairs([("T", "5 parsecs")]);
        let err = env
            .duration_or("T", Duration::ZERO)
            .unwrap_err()
            .to_string();
        assert!(err.contains("T") && err.contains("250ms"), "{err}");
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let env = Env::from_pairs([("DB_PASSWORD", "hunter2")]);
        assert!(!format!("{env:?}").contains("hunter2"));
        assert_eq!(
            env.secret("DB_PASSWORD").unwrap().expose_secret(),
            "hunter2"
        );
    }

    #[test]
    fn defaults_fill_only_what_is_unset() {
        let env =
            Env::from_pairs([("A", "set")]).with_defaults(&[("A", "default"), ("B", "default")]);
        assert_eq!(env.raw("A"), Some("set"));
        assert_eq!(env.raw("B"), Some("default"));
    }

    #[test]
    fn every_accessor_records_the_name_it_reads_set_or_not() {
        let env = Env::from_pairs([("PORT", "80"), ("KEY", "k")]);
        let _ = env.raw("RAW");
        let _ = env.required::<u16>("PORT");
        let _ = env.required::<u16>("REQUIRED");
        let _ = env.optional::<u16>("OPTIONAL");
        let _ = env.or("OR", 1u8);
        let _ = env.duration_or("DURATION", Duration::ZERO);
        let _ = env.flag_or("FLAG", false);
        let _ = env.list_or("LIST", &[]);
        let _ = env.secret("KEY");
        let _ = env.secret_opt("SECRET_OPT");
        assert_eq!(
            env.names_read(),
            [
                "DURATION",
                "FLAG",
                "KEY",
                "LIST",
                "OPTIONAL",
                "OR",
                "PORT",
                "RAW",
                "REQUIRED",
                "SECRET_OPT"
            ]
        );
    }

    #[test]
    fn clones_share_the_record_and_defaults_are_not_reads() {
        let env = Env::from_pairs([("A", "1")]).with_defaults(&[("B", "2")]);
        assert!(
            env.names_read().is_empty(),
            "filling in a default reads nothing"
        );
        let clone = env.clone().with_overrides(&[("A", "3")]);
        let _ = clone.raw("B");
        assert_eq!(env.names_read(), ["B"]);
        assert!(Env::from_pairs([("B", "2")]).names_read().is_empty());
    }

    #[test]
    fn lists_are_trimmed_and_default_when_unset() {
        let env = Env::from_pairs([("REGIONS", " eu, us ,,")]);
        assert_eq!(env.list_or("REGIONS", &[]), ["eu", "us"]);
        assert_eq!(env.list_or("OTHER", &["x"]), ["x"]);
    }
}
