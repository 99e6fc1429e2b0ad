//! Settings of the auth service, read once at start. Variables read (besides those of
//! `platform_telemetry`, `platform_runtime` and `platform_grpc` server settings):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `GRPC_PORT` | `50051` | gRPC listener |
//! | `OPS_PORT` | `9101` | `/healthz`, `/readyz`, `/metrics` |
//! | `DATABASE_URL` | required | Postgres of the auth service (secret) |
//! | `DATABASE_MAX_CONNECTIONS` | `10` | pool size |
//! | `DATABASE_ACQUIRE_TIMEOUT` | `2s` | waiting for (or opening) a connection |
//! | `DATABASE_STATEMENT_TIMEOUT` | `5s` | Postgres cancels a statement that runs longer (`statement_timeout`); a call that gets no answer fails on the client after `DATABASE_ACQUIRE_TIMEOUT` + this + 1s |
//! | `REDIS_URL` | `redis://127.0.0.1:6379` | Redis for login throttling |
//! | `REDIS_CONNECT_TIMEOUT` | `1s` | opening a connection |
//! | `REDIS_COMMAND_TIMEOUT` | `500ms` | one command's answer |
//! | `REDIS_KEY_PREFIX` | empty | namespace for keys when environments share a Redis |
//! | `AUTH_REGIONS` | `eu,us` | regions a user may choose; a user id starts with its home region and `_` (`eu_…`) |
//! | `AUTH_ISSUER` | `platform-auth` | `iss` of access tokens |
//! | `AUTH_AUDIENCE` | `platform` | `aud` of access tokens |
//! | `AUTH_ACCESS_TOKEN_TTL` | `15m` | access-token lifetime |
//! | `AUTH_REFRESH_TOKEN_TTL` | `30d` | refresh-token lifetime (renewed on every rotation) |
//! | `AUTH_SIGNING_KEY` / `AUTH_SIGNING_KEY_FILE` | generated (dev only) | Ed25519 private key, PKCS#8 PEM (secret) |
//! | `AUTH_PREVIOUS_PUBLIC_KEY` / `AUTH_PREVIOUS_PUBLIC_KEY_FILE` | none | the previous key's public half, SPKI PEM |
//! | `AUTH_HASH_CONCURRENCY` | CPU count | password hashes computed at once |
//! | `AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS` | `5` | failed logins per account from one client address per window; beyond, that address waits out the window for that account (others do not) |
//! | `AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS` | `100` | failed logins per client address (IPv6: per /64) over all accounts per window: caps a password spray |
//! | `AUTH_LOGIN_THROTTLE_WINDOW` | `15m` | the window of both counts, from its first attempt |
//! | `AUTH_LOGIN_ACCOUNT_SLOWDOWN_BURST` | `10` | attempts on one account, from addresses it never logged in from, before the slow-down |
//! | `AUTH_LOGIN_ACCOUNT_SLOWDOWN_INTERVAL` | `5s` | then one such attempt per interval (the owner waits at most about this) |
//! | `AUTH_LOGIN_MAX_FAILURES_PER_EMAIL` | none | removed (it locked the account for everyone); the start fails while it is set |
//!
//! Why these numbers (the rules are in `data/throttle.rs`):
//! - 5 per account and address: enough for a person's typos, and a guesser at one address
//!   gets 5 tries per 15 minutes on an account, 480 a day.
//! - The account's slow-down is what stops a guesser spread over many addresses: at most 10
//!   and then one try per 5 s, 17,280 a day however many addresses, each costing a hash
//!   here. The owner never waits more than about one interval, and not at all from an
//!   address they logged in from in the last 30 days. The burst is twice the strict limit,
//!   so one stranger's address alone cannot empty it; it also absorbs parallel logins.
//! - 100 per address over all accounts: people behind one NAT or proxy (an office, carrier
//!   NAT) share it, and only failures count (a success gives its attempt back), so honest
//!   traffic stays far below it; a sprayer trying one common password gets 100 accounts per
//!   15 minutes per address (per /64 in IPv6).
//!
//! Events go out through the outbox relay, configured by `platform_kafka::KafkaSettings`
//! (`KAFKA_BROKERS` is required to run; the native run and the tests start an embedded broker).

use std::time::Duration;

use platform_config::{ConfigError, Env, ExposeSecret, SecretString};
use platform_domain::Region;
use platform_grpc::GrpcServerSettings;
use platform_kafka::KafkaSettings;
use platform_postgres::PoolSettings;
use platform_redis::RedisSettings;
use platform_runtime::{RuntimeSettings, ServiceSettings};
use platform_telemetry::TelemetrySettings;

/// Everything the auth service needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub telemetry: TelemetrySettings,
    pub runtime: RuntimeSettings,
    pub grpc: GrpcServerSettings,
    pub database_url: SecretString,
    pub database: PoolSettings,
    pub redis: RedisSettings,
    pub kafka: KafkaSettings,
    pub tokens: TokenSettings,
    pub regions: Vec<Region>,
    pub hash_concurrency: usize,
    pub throttle: ThrottleSettings,
}

#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// PKCS#8 PEM; `None` means "generate a throwaway key" (local runs only).
    pub signing_key_pem: Option<SecretString>,
    /// SPKI PEM of the key that signed before the current one, kept in the JWKS.
    pub previous_public_key_pem: Option<String>,
}

/// The login throttle's limits (see `data/throttle.rs`).
#[derive(Debug, Clone)]
pub struct ThrottleSettings {
    pub max_failures_per_account_address: u32,
    pub max_failures_per_address: u32,
    pub window: Duration,
    pub account_slowdown_burst: u32,
    pub account_slowdown_interval: Duration,
}

impl ThrottleSettings {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        const REMOVED: &str = "AUTH_LOGIN_MAX_FAILURES_PER_EMAIL";
        if env.raw(REMOVED).is_some() {
            return Err(ConfigError::invalid(
                REMOVED,
                "was removed: a per-email limit let anyone lock an account; set \
                 AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS and AUTH_LOGIN_ACCOUNT_SLOWDOWN_* \
                 instead",
            ));
        }
        let settings = Self {
            max_failures_per_account_address: env
                .count_or("AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS", 5)?,
            max_failures_per_address: env.count_or("AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS", 100)?,
            window: env.duration_or("AUTH_LOGIN_THROTTLE_WINDOW", Duration::from_secs(15 * 60))?,
            account_slowdown_burst: env.count_or("AUTH_LOGIN_ACCOUNT_SLOWDOWN_BURST", 10)?,
            account_slowdown_interval: env.duration_or(
                "AUTH_LOGIN_ACCOUNT_SLOWDOWN_INTERVAL",
                Duration::from_secs(5),
            )?,
        };
        for (name, value) in [
            ("AUTH_LOGIN_THROTTLE_WINDOW", settings.window),
            (
                "AUTH_LOGIN_ACCOUNT_SLOWDOWN_INTERVAL",
                settings.account_slowdown_interval,
            ),
        ] {
            if value < Duration::from_millis(1) {
                return Err(ConfigError::invalid(name, "must be at least 1ms"));
            }
        }
        Ok(settings)
    }
}

impl ServiceSettings for Settings {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let regions = parse_regions(&env.list_or("AUTH_REGIONS", &["eu", "us"]))?;
        let default_concurrency = std::thread::available_parallelism().map_or(2, usize::from);
        let hash_concurrency = env.count_or("AUTH_HASH_CONCURRENCY", default_concurrency)?;
        Ok(Self {
            telemetry: TelemetrySettings::from_env(env, "auth")?,
            runtime: RuntimeSettings::from_env(env, 9101)?,
            grpc: GrpcServerSettings::from_env(env, 50051)?,
            database_url: env.secret("DATABASE_URL")?,
            database: PoolSettings::from_env(env)?,
            redis: RedisSettings::from_env(env)?,
            kafka: KafkaSettings::from_env(env, "auth")?,
            tokens: TokenSettings {
                issuer: env.or("AUTH_ISSUER", "platform-auth".to_owned())?,
                audience: env.or("AUTH_AUDIENCE", "platform".to_owned())?,
                access_ttl: env
                    .duration_or("AUTH_ACCESS_TOKEN_TTL", Duration::from_secs(15 * 60))?,
                refresh_ttl: env
                    .duration_or("AUTH_REFRESH_TOKEN_TTL", Duration::from_secs(30 * 86_400))?,
                signing_key_pem: pem_from(env, "AUTH_SIGNING_KEY")?.map(SecretString::from),
                previous_public_key_pem: pem_from(env, "AUTH_PREVIOUS_PUBLIC_KEY")?,
            },
            regions,
            hash_concurrency,
            throttle: ThrottleSettings::from_env(env)?,
        })
    }

    fn shell(&self) -> (&RuntimeSettings, &TelemetrySettings) {
        (&self.runtime, &self.telemetry)
    }
}

impl Settings {
    /// Settings for tests: ports 0, the given database, Redis and Kafka, a fresh Redis namespace.
    pub fn for_tests(
        database_url: &str,
        redis_url: &str,
        key_prefix: &str,
        kafka_brokers: &str,
    ) -> Self {
        let env = Env::from_pairs([
            ("DATABASE_URL", database_url),
            ("REDIS_URL", redis_url),
            ("REDIS_KEY_PREFIX", key_prefix),
        ]);
        let mut settings = Self::from_env(&env).expect("test settings are valid");
        settings.runtime = RuntimeSettings::for_tests();
        settings.grpc = GrpcServerSettings::for_tests();
        settings.kafka = KafkaSettings::for_tests(kafka_brokers, "auth");
        settings
    }
}

/// At least one region, each a plain [`Region`] name.
fn parse_regions(names: &[String]) -> Result<Vec<Region>, ConfigError> {
    if names.is_empty() {
        return Err(ConfigError::invalid(
            "AUTH_REGIONS",
            "needs at least one region",
        ));
    }
    names
        .iter()
        .map(|name| {
            Region::parse(name).map_err(|e| ConfigError::invalid("AUTH_REGIONS", e.to_string()))
        })
        .collect()
}

/// A PEM given inline in `NAME` or as a path in `NAME_FILE` (the Kubernetes Secret volume way).
fn pem_from(env: &Env, name: &str) -> Result<Option<String>, ConfigError> {
    let file_var = format!("{name}_FILE");
    match (env.secret_opt(name), env.raw(&file_var)) {
        (Some(_), Some(_)) => Err(ConfigError::invalid(
            name,
            format!("set {name} or {file_var}, not both"),
        )),
        (Some(inline), None) => Ok(Some(inline.expose_secret().to_owned())),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(Some)
            .map_err(|e| ConfigError::invalid(&file_var, format!("cannot read {path}: {e}"))),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use platform_testkit::refusal;

    use super::*;

    const DATABASE: (&str, &str) = ("DATABASE_URL", "postgres://x/y");

    #[test]
    fn bad_settings_are_refused_naming_the_variable() {
        let err = refusal(Settings::from_env, &[]);
        assert!(err.contains("DATABASE_URL"), "{err}");
        for (variable, value, named) in [
            // A region with an underscore: the variable and the region.
            (
                "AUTH_REGIONS",
                "eu,us_west",
                &["AUTH_REGIONS", "us_west"][..],
            ),
            // The removed per-email limit stops the start and names its replacement.
            (
                "AUTH_LOGIN_MAX_FAILURES_PER_EMAIL",
                "5",
                &[
                    "AUTH_LOGIN_MAX_FAILURES_PER_EMAIL",
                    "AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS",
                ],
            ),
            (
                "AUTH_LOGIN_ACCOUNT_SLOWDOWN_BURST",
                "0",
                &["AUTH_LOGIN_ACCOUNT_SLOWDOWN_BURST"],
            ),
            (
                "AUTH_SIGNING_KEY_FILE",
                "/nonexistent/key.pem",
                &["AUTH_SIGNING_KEY_FILE"],
            ),
        ] {
            let err = refusal(Settings::from_env, &[DATABASE, (variable, value)]);
            assert!(
                named.iter().all(|name| err.contains(name)),
                "{variable}={value}: {err}"
            );
        }
    }
}
