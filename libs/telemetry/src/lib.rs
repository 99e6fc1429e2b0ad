//! Logging, tracing and OpenTelemetry export, and the request context carried between services.
//!
//! [`init`] installs one `tracing` subscriber per process: JSON or pretty logs, filtered by
//! `RUST_LOG`, plus an OTLP exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. The
//! [`context`] module moves the W3C trace context and the `x-request-id` across process
//! boundaries (HTTP headers and gRPC metadata are both an `http::HeaderMap`).
//!
//! ```no_run
//! use platform_config::Env;
//! use platform_telemetry::{init, TelemetrySettings};
//!
//! let settings = TelemetrySettings::from_env(&Env::from_process(), "auth")?;
//! let _guard = init(&settings)?; // flushes pending spans when dropped
//! tracing::info!("ready");
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod context;
mod settings;

pub use opentelemetry_sdk::trace::SdkTracerProvider;
pub use settings::{LogFormat, TelemetrySettings};

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Keeps the exporter alive; dropping it flushes the spans still buffered.
#[must_use = "dropping the guard shuts the exporter down"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            tracing::warn!(error = %e, "the span exporter did not shut down cleanly");
        }
    }
}

/// Installs the global subscriber and, if an OTLP endpoint is configured, the exporter.
///
/// A collector that is not running does not fail the service: spans are dropped and the
/// exporter logs why.
pub fn init(settings: &TelemetrySettings) -> anyhow::Result<TelemetryGuard> {
    let provider = match &settings.otlp_endpoint {
        None => None,
        Some(endpoint) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()
                .context("building the OTLP span exporter")?;
            let resource = Resource::builder()
                .with_service_name(settings.service_name.clone())
                .build();
            Some(
                SdkTracerProvider::builder()
                    .with_resource(resource)
                    .with_batch_exporter(exporter)
                    .build(),
            )
        }
    };
    install(settings, provider)
}

/// Like [`init`], with a tracer provider made by the caller (tests pass one with an
/// in-memory exporter to see the spans).
pub fn install(
    settings: &TelemetrySettings,
    provider: Option<SdkTracerProvider>,
) -> anyhow::Result<TelemetryGuard> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let filter = EnvFilter::try_new(&settings.log_filter)
        .with_context(|| format!("RUST_LOG {:?} is not a valid filter", settings.log_filter))?;
    let logs = match settings.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().compact().boxed(),
    };
    let otel = provider.as_ref().map(|provider| {
        opentelemetry::global::set_tracer_provider(provider.clone());
        tracing_opentelemetry::layer().with_tracer(provider.tracer(settings.service_name.clone()))
    });

    tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(otel)
        .try_init()
        .context("a tracing subscriber was already installed")?;
    Ok(TelemetryGuard { provider })
}
