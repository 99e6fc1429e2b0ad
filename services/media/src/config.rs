//! Settings of the media service, read once at start. Variables read (besides those of
//! `platform_telemetry`, `platform_runtime` and `platform_kafka::KafkaSettings`):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `GRPC_PORT` | `50053` | gRPC listener |
//! | `GRPC_REQUEST_TIMEOUT` | `65s` | longest call, an upload's whole stream included (a little over the gateway's `MEDIA_UPLOAD_TIMEOUT`, so the caller's deadline is the one that fires) |
//! | `OPS_PORT` | `9103` | `/healthz`, `/readyz`, `/metrics` |
//! | `DATABASE_URL` | required | Postgres of the media service (secret) |
//! | `DATABASE_MAX_CONNECTIONS` | `10` | pool size |
//! | `DATABASE_ACQUIRE_TIMEOUT` | `2s` | waiting for (or opening) a connection |
//! | `DATABASE_STATEMENT_TIMEOUT` | `5s` | Postgres cancels a statement that runs longer (`statement_timeout`); a call that gets no answer fails on the client after `DATABASE_ACQUIRE_TIMEOUT` + this + 1s |
//! | `OBJECT_STORE_URL` | `./data/objects` | a directory, `file:///path` or `s3://bucket[/prefix]` |
//! | `OBJECT_STORE_TIMEOUT` | `10s` | one storage call (one step of a stream) |
//! | `OBJECT_STORE_CONNECT_TIMEOUT` | `2s` | connecting to the S3 endpoint |
//! | `OBJECT_STORE_S3_ENDPOINT` | AWS | an S3-compatible server, e.g. `http://minio:9000` |
//! | `OBJECT_STORE_S3_REGION` | `us-east-1` | the bucket's region |
//! | `OBJECT_STORE_S3_ACCESS_KEY_ID` | none | without it, the instance's own credentials |
//! | `OBJECT_STORE_S3_SECRET_ACCESS_KEY` | none | (secret) |
//! | `MEDIA_MAX_UPLOAD_BYTES` | `52428800` (50 MiB) | largest upload; the worker's `MEDIA_MAX_INPUT_BYTES` should match |
//! | `MEDIA_MAX_PENDING_UPLOADS` | `1000` | uploads that may wait for the worker (`pending`); past it a new upload is refused (503 at the gateway, `Retry-After`) before any byte is stored |
//!
//! `media.uploaded` goes out through the outbox relay and `media.processed` is consumed as
//! configured by `platform_kafka::KafkaSettings` (`KAFKA_BROKERS`, required to run, and the
//! other `KAFKA_*` variables; client id and default consumer group `media`).

use platform_config::{ConfigError, Env, SecretString};
use platform_grpc::GrpcServerSettings;
use platform_kafka::KafkaSettings;
use platform_postgres::PoolSettings;
use platform_runtime::{RuntimeSettings, ServiceSettings};
use platform_storage::StorageSettings;
use platform_telemetry::TelemetrySettings;

/// The default upload limit, 50 MiB: the same as the worker's default input limit, so
/// whatever is accepted here can be processed there.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 50 * 1024 * 1024;

/// The default bound of the upload backlog: at the worker's pace on one 2-core machine
/// (about 2.4 images/s) about 7 minutes of work, and at most 1000 originals in storage
/// waiting for it.
pub const DEFAULT_MAX_PENDING_UPLOADS: u32 = 1000;

/// The default server-side bound of one call. Uploads stream for as long as the client sends,
/// so this is longer than the usual 10 s: a little over the gateway's upload deadline.
pub const UPLOAD_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(65);

/// Everything the media service needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub telemetry: TelemetrySettings,
    pub runtime: RuntimeSettings,
    pub grpc: GrpcServerSettings,
    pub database_url: SecretString,
    pub database: PoolSettings,
    pub kafka: KafkaSettings,
    pub storage: StorageSettings,
    /// Uploads larger than this are refused while they stream in.
    pub max_upload_bytes: u64,
    /// While this many media are pending, a new upload is refused before it is stored.
    pub max_pending_uploads: u32,
}

impl ServiceSettings for Settings {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let max_upload_bytes = env.or("MEDIA_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)?;
        // Sizes are stored as Postgres `bigint`.
        if max_upload_bytes == 0 || i64::try_from(max_upload_bytes).is_err() {
            return Err(ConfigError::invalid(
                "MEDIA_MAX_UPLOAD_BYTES",
                "must be between 1 and 2^63 - 1",
            ));
        }
        // 0 would refuse every upload.
        let max_pending_uploads =
            env.count_or("MEDIA_MAX_PENDING_UPLOADS", DEFAULT_MAX_PENDING_UPLOADS)?;
        Ok(Self {
            telemetry: TelemetrySettings::from_env(env, "media")?,
            runtime: RuntimeSettings::from_env(env, 9103)?,
            grpc: GrpcServerSettings::from_env_with_timeout(env, 50053, UPLOAD_CALL_TIMEOUT)?,
            database_url: env.secret("DATABASE_URL")?,
            database: PoolSettings::from_env(env)?,
            kafka: KafkaSettings::from_env(env, "media")?,
            storage: StorageSettings::from_env(env)?,
            max_upload_bytes,
            max_pending_uploads,
        })
    }

    fn shell(&self) -> (&RuntimeSettings, &TelemetrySettings) {
        (&self.runtime, &self.telemetry)
    }
}

impl Settings {
    /// Settings for tests: ports 0, the given database and Kafka, objects in `storage_root`.
    pub fn for_tests(
        database_url: &str,
        kafka_brokers: &str,
        storage_root: &std::path::Path,
    ) -> Self {
        let env = Env::from_pairs([("DATABASE_URL", database_url)]);
        let mut settings = Self::from_env(&env).expect("test settings are valid");
        settings.runtime = RuntimeSettings::for_tests();
        settings.grpc = GrpcServerSettings::for_tests();
        settings.kafka = KafkaSettings::for_tests(kafka_brokers, "media");
        settings.storage = StorageSettings::local(storage_root);
        settings
    }
}

#[cfg(test)]
mod tests {
    use platform_testkit::refusal;

    use super::*;

    const DATABASE: (&str, &str) = ("DATABASE_URL", "postgres://x/y");

    #[test]
    fn the_upload_limit_defaults_to_50_mib() {
        let settings = Settings::from_env(&Env::from_pairs([DATABASE])).unwrap();
        assert_eq!(settings.max_upload_bytes, 52_428_800);
        assert_eq!(settings.max_pending_uploads, 1000);
        assert_eq!(settings.grpc.addr.port(), 50053);
        assert_eq!(settings.runtime.ops.addr.port(), 9103);
    }

    #[test]
    fn bad_settings_are_refused_naming_the_variable() {
        let err = refusal(Settings::from_env, &[]);
        assert!(err.contains("DATABASE_URL"), "{err}");
        // A zero or unstorable upload limit; a backlog bound of zero or not a count.
        for (name, bad) in [
            ("MEDIA_MAX_UPLOAD_BYTES", "0"),
            ("MEDIA_MAX_UPLOAD_BYTES", "9223372036854775808"),
            ("MEDIA_MAX_UPLOAD_BYTES", "lots"),
            ("MEDIA_MAX_PENDING_UPLOADS", "0"),
            ("MEDIA_MAX_PENDING_UPLOADS", "-1"),
            ("MEDIA_MAX_PENDING_UPLOADS", "many"),
        ] {
            let err = refusal(Settings::from_env, &[DATABASE, (name, bad)]);
            assert!(err.contains(name), "{bad}: {err}");
        }
    }
}
