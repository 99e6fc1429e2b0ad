//! Telemetry settings. Variables read:
//! - `LOG_FORMAT`: `json` (default in containers) or `pretty` (default).
//! - `RUST_LOG`: a `tracing` filter, default `info`.
//! - `OTEL_EXPORTER_OTLP_ENDPOINT`: OTLP/gRPC collector address; tracing export is off when unset.
//! - `OTEL_SERVICE_NAME`: the service name on exported spans; defaults to the service's own.

use platform_config::{ConfigError, Env};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, with the current span's fields (trace and request ids).
    Json,
    /// Human-readable, for a terminal.
    Pretty,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Self::Json),
            "pretty" => Ok(Self::Pretty),
            other => Err(format!("{other:?} is not json or pretty")),
        }
    }
}

/// Everything [`crate::init`] needs.
#[derive(Debug, Clone)]
pub struct TelemetrySettings {
    pub service_name: String,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub otlp_endpoint: Option<String>,
}

impl TelemetrySettings {
    /// Reads the variables listed in this module's documentation.
    pub fn from_env(env: &Env, default_service_name: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            service_name: env.or("OTEL_SERVICE_NAME", default_service_name.to_owned())?,
            log_format: env.or("LOG_FORMAT", LogFormat::Pretty)?,
            log_filter: env.or("RUST_LOG", "info".to_owned())?,
            otlp_endpoint: env.optional("OTEL_EXPORTER_OTLP_ENDPOINT")?,
        })
    }
}
