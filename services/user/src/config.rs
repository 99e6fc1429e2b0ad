//! Settings of the user service, read once at start. Variables read (besides those of
//! `platform_telemetry`, `platform_runtime`, `platform_grpc` server settings,
//! `platform_postgres::PoolSettings` and `platform_redis::RedisSettings`):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `GRPC_PORT` | `50052` | gRPC listener |
//! | `OPS_PORT` | `9102` | `/healthz`, `/readyz`, `/metrics` |
//! | `USER_SHARDS` | required (secret) | the shard map: `eu=postgres://…/users_eu,us=postgres://…/users_us` |
//! | `USER_CACHE_TTL` | `5m` | how long a cached profile is served |
//! | `USER_CACHE_ABSENT_TTL` | `30s` | how long "no such user" is cached |
//! | `USER_CACHE_TIMEOUT` | `100ms` | how long one cache call may take, connection included, before the call goes to Postgres alone |
//!
//! Events are consumed as configured by `platform_kafka::KafkaSettings` (`KAFKA_BROKERS` is
//! required to run; the native run and the tests start an embedded broker).

use std::time::Duration;

use platform_config::{ConfigError, Env, ExposeSecret as _, SecretString};
use platform_domain::Region;
use platform_grpc::GrpcServerSettings;
use platform_kafka::KafkaSettings;
use platform_postgres::PoolSettings;
use platform_redis::RedisSettings;
use platform_runtime::{RuntimeSettings, ServiceSettings};
use platform_telemetry::TelemetrySettings;

#[derive(Debug, Clone)]
pub struct Settings {
    pub telemetry: TelemetrySettings,
    pub runtime: RuntimeSettings,
    pub grpc: GrpcServerSettings,
    /// Region → database URL, in the order configured.
    pub shards: Vec<(String, SecretString)>,
    pub database: PoolSettings,
    pub redis: RedisSettings,
    pub kafka: KafkaSettings,
    pub cache: CacheSettings,
    /// The settings of the service's parts (`crate::parts`), each read by its part.
    pub parts: platform_config::Parts,
}

#[derive(Debug, Clone)]
pub struct CacheSettings {
    pub ttl: Duration,
    pub absent_ttl: Duration,
    /// One cache call's deadline, waiting for a pooled connection included: a silent Redis
    /// costs a read this much, not the pool's connect and command deadlines (about 2 s).
    pub timeout: Duration,
}

impl ServiceSettings for Settings {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            telemetry: TelemetrySettings::from_env(env, "user")?,
            runtime: RuntimeSettings::from_env(env, 9102)?,
            grpc: GrpcServerSettings::from_env(env, 50052)?,
            shards: parse_shards(env.secret("USER_SHARDS")?.expose_secret())?,
            database: PoolSettings::from_env(env)?,
            redis: RedisSettings::from_env(env)?,
            kafka: KafkaSettings::from_env(env, "user")?,
            cache: CacheSettings {
                ttl: env.duration_or("USER_CACHE_TTL", Duration::from_secs(300))?,
                absent_ttl: env.duration_or("USER_CACHE_ABSENT_TTL", Duration::from_secs(30))?,
                timeout: env.duration_or("USER_CACHE_TIMEOUT", Duration::from_millis(100))?,
            },
            parts: crate::parts::settings(env)?,
        })
    }

    fn shell(&self) -> (&RuntimeSettings, &TelemetrySettings) {
        (&self.runtime, &self.telemetry)
    }
}

impl Settings {
    /// Settings for tests: ports 0, the given shards, Redis and Kafka, a fresh Redis namespace.
    pub fn for_tests(
        shards: &[(&str, &str)],
        redis_url: &str,
        key_prefix: &str,
        kafka_brokers: &str,
    ) -> Self {
        let map = shards
            .iter()
            .map(|(region, url)| format!("{region}={url}"))
            .collect::<Vec<_>>()
            .join(",");
        let env = Env::from_pairs([
            ("USER_SHARDS", map.as_str()),
            ("REDIS_URL", redis_url),
            ("REDIS_KEY_PREFIX", key_prefix),
        ]);
        let mut settings = Self::from_env(&env).expect("test settings are valid");
        settings.runtime = RuntimeSettings::for_tests();
        settings.grpc = GrpcServerSettings::for_tests();
        settings.kafka = KafkaSettings::for_tests(kafka_brokers, "user");
        for part in crate::parts::PARTS {
            (part.for_tests)(&mut settings);
        }
        settings
    }
}

/// `eu=postgres://…,us=postgres://…` → [("eu", url), ("us", url)]. Errors never echo URLs:
/// they hold passwords.
fn parse_shards(raw: &str) -> Result<Vec<(String, SecretString)>, ConfigError> {
    let mut shards: Vec<(String, SecretString)> = Vec::new();
    for (i, entry) in raw
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .enumerate()
    {
        let Some((region, url)) = entry.split_once('=') else {
            return Err(ConfigError::invalid(
                "USER_SHARDS",
                format!("entry {} is not region=url", i + 1),
            ));
        };
        let region = region.trim();
        if let Err(e) = Region::parse(region) {
            return Err(ConfigError::invalid("USER_SHARDS", format!("region {e}")));
        }
        if shards.iter().any(|(r, _)| r == region) {
            return Err(ConfigError::invalid(
                "USER_SHARDS",
                format!("region {region:?} appears twice"),
            ));
        }
        shards.push((region.to_owned(), url.trim().to_owned().into()));
    }
    if shards.is_empty() {
        return Err(ConfigError::invalid(
            "USER_SHARDS",
            "needs at least one region=url",
        ));
    }
    Ok(shards)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shard_map_is_read_in_order() {
        let shards = parse_shards("eu=postgres://a/eu, us=postgres://b/us").unwrap();
        let regions: Vec<_> = shards.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(regions, ["eu", "us"]);
    }

    #[test]
    fn a_bad_shard_map_is_refused_without_echoing_urls() {
        for bad in ["eu", "EU=postgres://secret@x/y", "eu=a,eu=b", ""] {
            let err = parse_shards(bad).unwrap_err().to_string();
            assert!(
                err.contains("USER_SHARDS") && !err.contains("secret"),
                "{err}"
            );
        }
    }
}
