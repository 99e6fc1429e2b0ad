//! Health, readiness and draining, as an orchestrator sees them.

use std::time::Duration;

use platform_testkit::refused_addr;
use serde_json::Value;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::{spawn_auth, spawn_auth_with};

async fn readyz(ops: std::net::SocketAddr) -> (u16, Value) {
    let response = reqwest::get(format!("http://{ops}/readyz")).await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn readiness_checks_postgres_and_redis() {
    let auth = spawn_auth().await;
    let (status, report) = readyz(auth.ops).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["checks"]["postgres"], "ok");
    assert_eq!(report["checks"]["redis"], "ok");
}

#[tokio::test]
async fn without_redis_auth_stays_ready_and_reports_itself_degraded() {
    let nobody = refused_addr().await;
    let auth = spawn_auth_with(|settings| {
        settings.redis.url = format!("redis://{nobody}").into();
    })
    .await;
    let (status, report) = readyz(auth.ops).await;
    assert_eq!(status, 200, "only logins need Redis: {report}");
    assert_eq!(report["degraded"], true, "{report}");
    assert_eq!(report["checks"]["postgres"], "ok");
    assert_ne!(report["checks"]["redis"], "ok", "{report}");
}

#[tokio::test]
async fn without_postgres_auth_is_not_ready() {
    let nobody = refused_addr().await;
    let auth = spawn_auth_with(|settings| {
        settings.database_url = format!("postgres://postgres@{nobody}/auth").into();
    })
    .await;
    let (status, report) = readyz(auth.ops).await;
    assert_eq!(status, 503, "{report}");
    assert_ne!(report["checks"]["postgres"], "ok", "{report}");
    assert_eq!(report["checks"]["redis"], "ok");
}

#[tokio::test]
async fn grpc_health_turns_not_serving_as_soon_as_draining_starts() {
    // A long shutdown delay keeps the listener open while the replica reports itself leaving.
    let auth = spawn_auth_with(|settings| {
        settings.runtime.shutdown_delay = Duration::from_secs(600);
    })
    .await;
    let mut health = HealthClient::new(auth.channel());
    let check = || HealthCheckRequest {
        service: "auth.v1.AuthService".into(),
    };
    let status = health.check(check()).await.unwrap().into_inner().status();
    assert_eq!(status, ServingStatus::Serving);

    auth.stop.send(()).unwrap();
    let mut watch = health.watch(check()).await.unwrap().into_inner();
    loop {
        let update = watch
            .message()
            .await
            .unwrap()
            .expect("the watch stays open");
        if update.status() == ServingStatus::NotServing {
            break;
        }
    }
    let (status, report) = readyz(auth.ops).await;
    assert_eq!(status, 503);
    assert_eq!(report["draining"], true);
}
