//! The caller's context crosses the hop from HTTP to gRPC: the callee sees the request id,
//! continues the same trace, and receives the deadline as `grpc-timeout`.

use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use platform_grpc::GrpcClientSettings;
use platform_telemetry::{LogFormat, TelemetrySettings};
use reqwest::Method;

use crate::helpers::{spawn_platform, spawn_platform_with, spawn_stub_auth};
use crate::platform::send;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// Installs the global subscriber with an in-memory span exporter. nextest runs every test
/// in its own process, so this affects no other test.
fn record_spans() -> (
    InMemorySpanExporter,
    SdkTracerProvider,
    platform_telemetry::TelemetryGuard,
) {
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
    let guard = platform_telemetry::install(&settings, Some(provider.clone())).unwrap();
    (exporter, provider, guard)
}

/// The names of the finished spans that belong to trace `TRACE_ID`.
fn spans_in_trace(exporter: &InMemorySpanExporter, provider: &SdkTracerProvider) -> Vec<String> {
    provider.force_flush().unwrap();
    exporter
        .get_finished_spans()
        .unwrap()
        .iter()
        .filter(|s| s.span_context.trace_id().to_string() == TRACE_ID)
        .map(|s| s.name.to_string())
        .collect()
}

#[tokio::test]
async fn request_id_trace_context_and_deadline_reach_the_callee() {
    let (exporter, provider, _telemetry) = record_spans();

    let (stub_addr, stub) = spawn_stub_auth().await;
    let app = spawn_platform_with(Box::new(move |_, _, gateway| {
        gateway.auth = GrpcClientSettings::for_tests("auth", stub_addr);
    }))
    .await;
    let response = send(
        app.request(Method::GET, "/.well-known/jwks.json")
            .header("x-request-id", "req-propagation-1")
            .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01")),
    )
    .await;
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

    let in_trace = spans_in_trace(&exporter, &provider);
    assert!(
        in_trace.iter().any(|n| n.starts_with("http.request")),
        "{in_trace:?}"
    );
    assert!(
        in_trace.iter().any(|n| n == "/auth.v1.AuthService/GetJwks"),
        "{in_trace:?}"
    );
}

#[tokio::test]
async fn one_registration_is_one_trace_from_the_gateway_through_auth_and_kafka_to_the_user_service()
{
    let (exporter, provider, _telemetry) = record_spans();
    let app = spawn_platform().await;
    let response = app
        .client
        .post(format!("{}/v1/auth/register", app.base))
        .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
        .json(&serde_json::json!({
            "email": "traced@example.com", "password": "correct horse", "display_name": "T", "region": "eu"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    // Bounded wait for the user service to have handled the event.
    let mut in_trace = Vec::new();
    for _ in 0..300 {
        in_trace = spans_in_trace(&exporter, &provider);
        if in_trace.iter().any(|n| n == "process event") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for expected in [
        "http.request",
        "/auth.v1.AuthService/Register",
        "publish event",
        "process event",
    ] {
        assert!(
            in_trace.iter().any(|n| n.starts_with(expected)),
            "no {expected:?} span in the trace: {in_trace:?}"
        );
    }
}
