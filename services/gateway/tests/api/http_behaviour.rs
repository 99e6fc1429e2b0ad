//! The HTTP contract every route keeps: problem+json errors, request ids, limits, OpenAPI,
//! metrics and readiness.

use std::time::Duration;

use platform_grpc::GrpcClientSettings;
use platform_testkit::refused_addr;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    TestPlatform, assert_problem, login_held_in_flight, spawn_held_auth, spawn_platform,
    spawn_platform_with,
};
use crate::platform::send;

#[tokio::test]
async fn an_unknown_route_is_a_404_problem_that_echoes_the_request_id() {
    let app = spawn_platform().await;
    let response = send(
        app.request(Method::GET, "/v1/nothing-here")
            .header("x-request-id", "req-from-client-1"),
    )
    .await;
    assert_eq!(response.headers()["x-request-id"], "req-from-client-1");
    let body = assert_problem(response, 404, "NOT_FOUND").await;
    assert_eq!(body["request_id"], "req-from-client-1");
}

#[tokio::test]
async fn a_request_without_an_id_gets_one() {
    let app = spawn_platform().await;
    let response = app.get("/.well-known/jwks.json").await;
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let app = spawn_platform().await;
    let big = "x".repeat(70 * 1024);
    let response = app
        .post("/v1/auth/login", json!({"email": big, "password": "p"}))
        .await;
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE").await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415_problem_and_malformed_json_a_400() {
    let app = spawn_platform().await;
    for (content_type, body, status, code) in [
        ("text/plain", "email=a", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("application/json", "{\"email\": ", 400, "MALFORMED_JSON"),
    ] {
        let response = app.post_raw("/v1/auth/login", content_type, body).await;
        assert_problem(response, status, code).await;
    }
}

#[tokio::test]
async fn the_wrong_method_is_a_405_problem() {
    let app = spawn_platform().await;
    let response = app.get("/v1/auth/login").await;
    assert_problem(response, 405, "METHOD_NOT_ALLOWED").await;
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_describes_every_route() {
    let app = spawn_platform().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/auth/register",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/logout",
        "/.well-known/jwks.json",
        "/v1/users/me",
        "/v1/users/me/avatar",
        "/v1/users/{id}",
        "/v1/media",
        "/v1/media/{id}",
        "/v1/media/{id}/{variant}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    let avatar = &doc["components"]["schemas"]["Avatar"];
    assert!(avatar["properties"]["variants"].is_object(), "{avatar}");
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

#[tokio::test]
async fn metrics_count_requests_per_route() {
    let app = spawn_platform().await;
    app.get("/.well-known/jwks.json").await;
    let metrics = platform_testkit::scrape_metrics(app.gateway_ops).await;
    assert!(
        metrics.contains(r#"http_server_requests_total{method="GET",route="/.well-known/jwks.json",status="200"}"#),
        "{metrics}"
    );
    assert!(metrics.contains("http_server_request_duration_seconds_bucket"));
    assert!(metrics.contains(
        r#"grpc_server_requests_total{method="/auth.v1.AuthService/GetJwks",code="Ok"}"#
    ));
}

#[tokio::test]
async fn readiness_reports_every_upstream() {
    let app = spawn_platform().await;
    let (status, report) = readyz(&app).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["degraded"], false, "{report}");
    for upstream in ["auth", "user", "media"] {
        assert_eq!(report["checks"][upstream], "ok", "{report}");
    }
}

#[tokio::test]
async fn upstreams_down_degrade_the_gateway_but_keep_it_ready() {
    // Each would be enough to take it out of the ingress if it were a required check.
    let nobody = refused_addr().await;
    let app = spawn_platform_with(Box::new(move |_, _, gateway| {
        gateway.auth = GrpcClientSettings::for_tests("auth", nobody);
        gateway.users = GrpcClientSettings::for_tests("user", nobody);
    }))
    .await;
    let (status, report) = readyz(&app).await;
    assert_eq!(status, 200, "media's routes still serve: {report}");
    assert_eq!(report["degraded"], true, "{report}");
    assert_ne!(report["checks"]["auth"], "ok", "{report}");
    assert_ne!(report["checks"]["user"], "ok", "{report}");
    assert_eq!(report["checks"]["media"], "ok", "{report}");
}

async fn readyz(app: &TestPlatform) -> (u16, Value) {
    let response = app
        .client
        .get(format!("http://{}/readyz", app.gateway_ops))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn beyond_the_concurrency_limit_requests_are_shed_with_503_and_retry_after() {
    let (held, arrived, release) = spawn_held_auth().await;
    let app = spawn_platform_with(Box::new(move |_, _, gateway| {
        gateway.auth = GrpcClientSettings::for_tests("auth", held);
        gateway.http.max_concurrent_requests = 1;
    }))
    .await;
    let first = login_held_in_flight(&app.client, &app.base, &arrived).await;
    let shed = app.get("/.well-known/jwks.json").await;
    assert_eq!(shed.headers()["retry-after"], "1");
    assert_problem(shed, 503, "UNAVAILABLE").await;
    release.add_permits(1);
    assert_eq!(first.await.unwrap().unwrap().status(), 200);
}

#[tokio::test]
async fn a_request_past_the_gateway_timeout_is_a_504_problem() {
    let (held, _, _) = spawn_held_auth().await;
    let app = spawn_platform_with(Box::new(move |_, _, gateway| {
        gateway.auth = GrpcClientSettings::for_tests("auth", held);
        gateway.http.request_timeout = Duration::from_millis(300);
    }))
    .await;
    let response = app.login("a@example.com", "p").await;
    assert_problem(response, 504, "TIMEOUT").await;
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let app = spawn_platform_with(Box::new(|_, _, gateway| {
        gateway.http.cors_allowed_origins = vec!["https://app.example".into()];
    }))
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, format!("{}/v1/auth/login", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let allowed = preflight("https://app.example").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}
