//! Every outbound call has a deadline: against a peer that accepts connections and never
//! answers, the user gets a 504 or 503 problem instead of a hang.

use std::time::Duration;

use platform_grpc::GrpcClientSettings;
use platform_testkit::{black_hole, refused_addr};
use sqlx::Connection as _;

use crate::helpers::{assert_problem, spawn_platform_with};

#[tokio::test]
async fn a_silent_auth_service_is_a_504_at_the_gateway() {
    let silent = black_hole().await;
    let app = spawn_platform_with(Box::new(move |_, _, gateway| {
        gateway.auth = GrpcClientSettings::for_tests("auth", silent);
        gateway.auth.request_timeout = Duration::from_millis(300);
    }))
    .await;
    let response = app.login("ada@example.com", "whatever password").await;
    assert_problem(response, 504, "UPSTREAM_TIMEOUT").await;
}

#[tokio::test]
async fn an_unreachable_auth_service_is_a_503_with_retry_after() {
    let nobody = refused_addr().await;
    let app = spawn_platform_with(Box::new(move |_, _, gateway| {
        gateway.auth = GrpcClientSettings::for_tests("auth", nobody);
    }))
    .await;
    let response = app.login("ada@example.com", "whatever password").await;
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, 503, "UPSTREAM_UNAVAILABLE").await;
}

#[tokio::test]
async fn a_silent_postgres_fails_registration_with_503() {
    let silent = black_hole().await;
    let app = spawn_platform_with(Box::new(move |auth, _, _| {
        auth.database_url = format!("postgres://postgres@{silent}/auth").into();
        auth.database.acquire_timeout = Duration::from_millis(300);
    }))
    .await;
    let response = app.post_registration("ada@example.com", "eu").await;
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, 503, "DEPENDENCY_UNAVAILABLE").await;
}

#[tokio::test]
async fn a_statement_stuck_on_a_lock_is_cut_off_by_statement_timeout() {
    let app = spawn_platform_with(Box::new(|auth, _, _| {
        auth.database.statement_timeout = Duration::from_millis(300);
    }))
    .await;
    // Another transaction holds the unique-index entry for this email, uncommitted, so the
    // registration's insert waits on it.
    let mut blocker = sqlx::PgConnection::connect(app.auth_db.url())
        .await
        .unwrap();
    sqlx::query("begin").execute(&mut blocker).await.unwrap();
    sqlx::query("insert into credentials (user_id, email, password_hash, region) values ('eu_x', 'held@example.com', 'x', 'eu')")
        .execute(&mut blocker)
        .await
        .unwrap();
    let response = app.post_registration("held@example.com", "eu").await;
    assert_problem(response, 504, "DEPENDENCY_TIMEOUT").await;
    sqlx::query("rollback").execute(&mut blocker).await.unwrap();
}

#[tokio::test]
async fn a_silent_redis_fails_login_with_503_rather_than_skipping_the_throttle() {
    let silent = black_hole().await;
    let app = spawn_platform_with(Box::new(move |auth, _, _| {
        auth.redis.url = format!("redis://{silent}").into();
        auth.redis.connect_timeout = Duration::from_millis(300);
        auth.redis.command_timeout = Duration::from_millis(300);
    }))
    .await;
    let (email, password, _) = app.register("eu").await;
    let response = app.login(&email, &password).await;
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, 503, "DEPENDENCY_UNAVAILABLE").await;
}
