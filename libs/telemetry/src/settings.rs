//! Telemetry settings. Variables read:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `LOG_FORMAT` | `pretty` (`json` in the container images) | `json` (one object per line) or `pretty` |
//! | `RUST_LOG` | `info` | a `tracing` filter |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | none: no export | OTLP/gRPC collector address; tracing export is off when unset |
//! | `OTEL_SERVICE_NAME` | the service's name | the service name on exported spans |
//!
//! Read from the process by the libraries [`init`](crate::init) installs, not through `Env`:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `NO_COLOR` | unset | when set, `pretty` logs have no ANSI colours (`tracing-subscriber`) |
//! | `OTEL_RESOURCE_ATTRIBUTES` | none | extra attributes of exported spans' resource, `key=value,...` (`service.name` comes from `OTEL_SERVICE_NAME`) |
//! | `OTEL_TRACES_SAMPLER` | `parentbased_always_on` | which spans are exported, e.g. `parentbased_traceidratio` (OpenTelemetry SDK) |
//! | `OTEL_TRACES_SAMPLER_ARG` | `1.0` | the sampler's argument, e.g. the ratio of `traceidratio` samplers |
//! | `OTEL_EXPORTER_OTLP_HEADERS` | none | headers sent to the collector, `key=value,...` (e.g. an API key; secret) |
//! | `OTEL_EXPORTER_OTLP_TIMEOUT` | `10000` (ms) | deadline of one export to the collector, in milliseconds |

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
