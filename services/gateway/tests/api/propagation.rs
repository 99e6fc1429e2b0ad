//! The caller's context crosses the hop from HTTP to gRPC: the callee sees the request id,
//! continues the same trace, and receives the deadline as `grpc-timeout`.

use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use platform_grpc::GrpcClientSettings;
use platform_telemetry::{LogFormat, TelemetrySettings};

use crate::helpers::{spawn_app_with, spawn_stub_auth};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

// nextest runs every test in its own process, so installing the global subscriber here
// affects no other test.
#[tokio::test]
async fn request_id_trace_context_and_deadline_reach_the_callee() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let settings = TelemetrySettings {
        service_name: "test".into(),
        log_format: LogFormat::Pretty,
        log_filter: "info".into(),
        otlp_endpoint: None,
    };
    let _telemetry = platform_telemetry::install(&settings, Some(provider.clone())).unwrap();

    let (stub_addr, stub) = spawn_stub_auth().await;
    let app = spawn_app_with(Box::new(move |_, _, gateway| {
        gateway.auth = GrpcClientSettings::for_tests("auth", stub_addr);
    }))
    .await;
    let response = app
        .client
        .get(format!("{}/.well-known/jwks.json", app.base))
        .header("x-request-id", "req-propagation-1")
        .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let seen = stub
        .seen
        .lock()
        .unwrap()
        .clone()
        .expect("the gateway called auth");
    assert_eq!(seen.metadata["x-request-id"], "req-propagation-1");
    assert_eq!(
        seen.request_id_in_scope.as_deref(),
        Some("req-propagation-1")
    );
    let traceparent = seen.metadata["traceparent"].to_str().unwrap();
    assert!(traceparent.contains(TRACE_ID), "{traceparent}");
    assert_eq!(
        seen.trace_id, TRACE_ID,
        "the callee's span continues the caller's trace"
    );
    let timeout = seen.metadata["grpc-timeout"].to_str().unwrap();
    let millis: u64 = timeout.trim_end_matches('m').parse().unwrap();
    assert!(
        millis > 0 && millis <= 2_000,
        "the deadline travels with the call: {timeout}"
    );

    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let in_trace: Vec<_> = spans
        .iter()
        .filter(|s| s.span_context.trace_id().to_string() == TRACE_ID)
        .map(|s| s.name.to_string())
        .collect();
    assert!(
        in_trace.iter().any(|n| n.starts_with("http.request")),
        "{in_trace:?}"
    );
    assert!(
        in_trace.iter().any(|n| n == "/auth.v1.AuthService/GetJwks"),
        "{in_trace:?}"
    );
}
