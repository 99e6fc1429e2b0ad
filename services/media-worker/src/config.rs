//! Settings of the media worker, read once at start. Variables read (besides those of
//! `platform_telemetry`, `platform_runtime`, `platform_kafka::KafkaSettings` and
//! `platform_storage::StorageSettings`):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `OPS_PORT` | `9104` | `/healthz`, `/readyz`, `/metrics` |
//! | `MEDIA_WORKER_THREADS` | one per core | CPU pool threads, and so jobs at once (one consumer per thread) |
//! | `MEDIA_MAX_WIDTH` | `10000` | widest image accepted, in pixels |
//! | `MEDIA_MAX_HEIGHT` | `10000` | tallest image accepted, in pixels |
//! | `MEDIA_MAX_PIXELS` | `40000000` | most pixels (width × height) accepted |
//! | `MEDIA_MAX_INPUT_BYTES` | `52428800` (50 MiB) | largest original read from storage |
//! | `MEDIA_MAX_DECODE_BYTES` | `536870912` (512 MiB) | most memory one decode may allocate |
//! | `KAFKA_BROKERS` | required | the cluster `media.uploaded` is consumed from |
//! | `KAFKA_CONSUMER_GROUP` | `media-worker` | the group every replica and every pool thread joins |
//! | `OBJECT_STORE_URL` | `./data/objects` | where originals are read and variants written |
//! | `OBJECT_STORE_TIMEOUT` | `10s` | deadline of one storage call |
//!
//! One job holds at most the original (`MEDIA_MAX_INPUT_BYTES`), the decoder's memory
//! (`MEDIA_MAX_DECODE_BYTES`) plus one 8-bit RGB copy of the image (3 × `MEDIA_MAX_PIXELS`), and
//! its encoded variants: size `MEDIA_WORKER_THREADS` and the memory limit together.

use std::path::Path;

use platform_config::{ConfigError, Env};
use platform_kafka::KafkaSettings;
use platform_runtime::{RuntimeSettings, ServiceSettings};
use platform_storage::StorageSettings;
use platform_telemetry::TelemetrySettings;

use crate::service::images::ImageLimits;

/// The name the worker reports in traces and Kafka, and its default consumer group.
const SERVICE_NAME: &str = "media-worker";

#[derive(Debug, Clone)]
pub struct Settings {
    pub telemetry: TelemetrySettings,
    pub runtime: RuntimeSettings,
    pub kafka: KafkaSettings,
    pub storage: StorageSettings,
    pub limits: ImageLimits,
    /// Threads of the CPU pool, and so consumers in the group and jobs at once.
    pub threads: usize,
}

impl ServiceSettings for Settings {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let threads = env.count_or("MEDIA_WORKER_THREADS", platform_cpu_pool::default_threads())?;
        Ok(Self {
            telemetry: TelemetrySettings::from_env(env, SERVICE_NAME)?,
            runtime: RuntimeSettings::from_env(env, 9104)?,
            kafka: KafkaSettings::from_env(env, SERVICE_NAME)?,
            storage: StorageSettings::from_env(env)?,
            limits: ImageLimits::from_env(env)?,
            threads,
        })
    }

    fn shell(&self) -> (&RuntimeSettings, &TelemetrySettings) {
        (&self.runtime, &self.telemetry)
    }
}

impl Settings {
    /// Settings for tests: the ops port 0, the given Kafka (group `media-worker`, quick
    /// retries), a local store in `storage_root`, the default limits and two pool threads.
    pub fn for_tests(kafka_brokers: &str, storage_root: &Path) -> Self {
        let mut settings =
            Self::from_env(&Env::default()).expect("the defaults are valid settings");
        settings.runtime = RuntimeSettings::for_tests();
        settings.kafka = KafkaSettings::for_tests(kafka_brokers, SERVICE_NAME);
        settings.storage = StorageSettings::local(storage_root);
        settings.threads = 2;
        settings
    }
}

#[cfg(test)]
mod tests {
    use platform_testkit::refusal;

    use super::*;

    #[test]
    fn the_defaults_use_every_core_and_the_ops_port_9104() {
        let settings = Settings::from_env(&Env::default()).unwrap();
        assert_eq!(settings.threads, platform_cpu_pool::default_threads());
        assert_eq!(settings.runtime.ops.addr.port(), 9104);
        assert_eq!(settings.kafka.consumer_group, "media-worker");
        assert_eq!(settings.limits, ImageLimits::default());
    }

    #[test]
    fn zero_threads_are_refused_by_name() {
        let err = refusal(Settings::from_env, &[("MEDIA_WORKER_THREADS", "0")]);
        assert!(err.contains("MEDIA_WORKER_THREADS"), "{err}");
    }
}
