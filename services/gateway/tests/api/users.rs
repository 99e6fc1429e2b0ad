//! Profiles end to end: register through the gateway, the event reaches the user service,
//! the profile is readable, writes show at once, each user lives in their region only.

use std::time::Duration;

use platform_grpc::GrpcClientSettings;
use platform_testkit::{black_hole, refused_addr};
use serde_json::{Value, json};

use crate::helpers::{TestPlatform, assert_problem, spawn_platform, spawn_platform_with};

fn token(session: &Value) -> &str {
    session["access_token"].as_str().unwrap()
}

/// What `session`'s user reads at `path`, as JSON.
async fn read_as(app: &TestPlatform, session: &Value, path: &str) -> Value {
    app.get_as(token(session), path).await.json().await.unwrap()
}

/// The path of `session`'s user's public profile.
fn profile_path(session: &Value) -> String {
    format!("/v1/users/{}", session["user_id"].as_str().unwrap())
}

#[tokio::test]
async fn after_registering_the_profile_is_readable() {
    let app = spawn_platform().await;
    let session = app.register_with_profile("eu").await;
    let me = read_as(&app, &session, "/v1/users/me").await;
    assert_eq!(me["id"], session["user_id"]);
    assert_eq!(me["display_name"], "Ada");
    assert_eq!(me["region"], "eu");
    assert_eq!(me["bio"], "");
    assert!(me["email"].as_str().unwrap().ends_with("@example.com"));
    assert!(me["avatar"].is_null());
    assert!(
        me["created_at"].as_str().unwrap().contains('T'),
        "RFC 3339: {me}"
    );
}

#[tokio::test]
async fn a_user_registered_in_us_lands_in_the_us_database_and_nowhere_else() {
    let app = spawn_platform().await;
    let session = app.register_with_profile("us").await;
    let id = session["user_id"].as_str().unwrap();
    let count = |url: String| async move {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query_scalar::<_, i64>("select count(*) from profiles where id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(count(app.users_us.url().to_owned()).await, 1);
    assert_eq!(count(app.users_eu.url().to_owned()).await, 0);
}

#[tokio::test]
async fn a_patch_shows_at_once_in_another_users_read() {
    let app = spawn_platform().await;
    let (ada, grace) = (
        app.register_with_profile("eu").await,
        app.register_with_profile("us").await,
    );
    let path = profile_path(&ada);
    let before = read_as(&app, &grace, &path).await;
    assert_eq!(before["display_name"], "Ada"); // now in the cache

    let patched = app
        .patch_me(
            token(&ada),
            json!({"display_name": "Ada Lovelace", "bio": "Analyst"}),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let after = read_as(&app, &grace, &path).await;
    assert_eq!(after["display_name"], "Ada Lovelace");
    assert_eq!(after["bio"], "Analyst");
}

#[tokio::test]
async fn the_public_view_has_no_email() {
    let app = spawn_platform().await;
    let (ada, grace) = (
        app.register_with_profile("eu").await,
        app.register_with_profile("eu").await,
    );
    let public = read_as(&app, &grace, &profile_path(&ada)).await;
    assert_eq!(public["id"], ada["user_id"]);
    assert!(public.get("email").is_none(), "{public}");
}

#[tokio::test]
async fn unknown_users_are_404_and_anonymous_callers_401() {
    let app = spawn_platform().await;
    let session = app.register_with_profile("eu").await;
    let unknown = app
        .get_as(
            token(&session),
            "/v1/users/eu_0192f4c1a2b37c4d8e9f0a1b2c3d4e5f",
        )
        .await;
    assert_problem(unknown, 404, "USER_NOT_FOUND").await;
    assert_problem(app.get("/v1/users/me").await, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn profile_field_limits_are_problems_naming_the_field() {
    let app = spawn_platform().await;
    let session = app.register_with_profile("eu").await;
    let too_long = app
        .patch_me(token(&session), json!({"bio": "x".repeat(501)}))
        .await;
    let body = assert_problem(too_long, 400, "INVALID_INPUT").await;
    assert_eq!(body["errors"][0]["field"], "bio");
    let unknown_field = app
        .patch_me(token(&session), json!({"email": "new@example.com"}))
        .await;
    let body = assert_problem(unknown_field, 400, "INVALID_INPUT").await;
    assert!(body["detail"].as_str().unwrap().contains("email"), "{body}");
}

#[tokio::test]
async fn one_region_down_is_503_for_that_region_only_within_its_deadline() {
    let silent = black_hole().await;
    let app = spawn_platform_with(Box::new(move |_, user, _| {
        user.shards[1].1 = format!("postgres://postgres@{silent}/users_us").into();
        user.database.acquire_timeout = Duration::from_millis(300);
    }))
    .await;
    let eu = app.register_with_profile("eu").await;
    let us_user = app
        .get_as(token(&eu), "/v1/users/us_0192f4c1a2b37c4d8e9f0a1b2c3d4e5f")
        .await;
    assert!(us_user.headers().contains_key("retry-after"));
    assert_problem(us_user, 503, "REGION_UNAVAILABLE").await;
    assert_eq!(app.get_as(token(&eu), "/v1/users/me").await.status(), 200);
}

#[tokio::test]
async fn with_redis_down_profiles_are_still_served() {
    let nobody = refused_addr().await;
    let app = spawn_platform_with(Box::new(move |_, user, _| {
        user.redis.url = format!("redis://{nobody}").into();
    }))
    .await;
    let session = app.register_with_profile("eu").await;
    assert_eq!(
        app.get_as(token(&session), "/v1/users/me").await.status(),
        200
    );
}

#[tokio::test]
async fn a_silent_user_service_is_a_504_at_the_gateway() {
    let silent = black_hole().await;
    let app = spawn_platform_with(Box::new(move |_, _, gateway| {
        gateway.users = GrpcClientSettings::for_tests("user", silent);
        gateway.users.request_timeout = Duration::from_millis(300);
    }))
    .await;
    let (_, _, session) = app.register("eu").await;
    assert_problem(
        app.get_as(token(&session), "/v1/users/me").await,
        504,
        "UPSTREAM_TIMEOUT",
    )
    .await;
}
