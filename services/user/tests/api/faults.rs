//! Faults: Redis gone or silent, one region's database gone. What a caller sees.

use std::time::Duration;

use platform_testkit::{black_hole, refused_addr};
use serde_json::Value;
use tonic::Code;

use crate::helpers::{TestUser, get, new_id, spawn_user, spawn_user_with};

/// The user service with Redis refusing connections, and a profile `eu` seeded as Ada.
async fn seeded_with_redis_refusing() -> (TestUser, String) {
    let nobody = refused_addr().await;
    let user =
        spawn_user_with(|settings| settings.redis.url = format!("redis://{nobody}").into()).await;
    let id = new_id("eu");
    user.seed(&id, "Ada").await;
    (user, id)
}

#[tokio::test]
async fn with_redis_down_profiles_are_still_served_from_postgres() {
    let (user, id) = seeded_with_redis_refusing().await;
    let read = user.client().get_user(get(&id)).await.unwrap().into_inner();
    assert_eq!(read.display_name, "Ada");
}

#[tokio::test]
async fn with_redis_down_writes_still_succeed_and_the_failed_invalidation_is_counted() {
    let (user, id) = seeded_with_redis_refusing().await;
    let updated = user
        .client()
        .update_profile(platform_proto::user::v1::UpdateProfileRequest {
            user_id: id.clone(),
            display_name: None,
            bio: Some("written without a cache".into()),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.bio, "written without a cache");
    platform_testkit::assert_metric(user.ops, "profile_cache_invalidation_failures_total").await;
}

#[tokio::test]
async fn with_redis_silent_profiles_are_still_served_within_the_command_deadline() {
    let silent = black_hole().await;
    let user = spawn_user_with(|settings| {
        settings.redis.url = format!("redis://{silent}").into();
        settings.redis.connect_timeout = Duration::from_millis(200);
        settings.redis.command_timeout = Duration::from_millis(200);
    })
    .await;
    let id = new_id("us");
    user.seed(&id, "Grace").await;
    let read = user.client().get_user(get(&id)).await.unwrap().into_inner();
    assert_eq!(read.display_name, "Grace");
    platform_testkit::assert_metric(user.ops, r#"profile_cache_lookups_total{result="bypass"}"#)
        .await;
}

/// The cache's own deadline, not the pool's: with the pool's deadlines far longer than the
/// call's, a silent Redis still costs a read only `USER_CACHE_TIMEOUT`. Before the deadline
/// existed this read waited for the pool (about 2 s with the defaults; here 60 s) and the
/// server's own request deadline failed it first.
#[tokio::test]
async fn with_redis_silent_a_read_waits_for_the_cache_deadline_not_the_pools() {
    let silent = black_hole().await;
    let user = spawn_user_with(|settings| {
        settings.redis.url = format!("redis://{silent}").into();
        settings.redis.connect_timeout = Duration::from_secs(60);
        settings.redis.command_timeout = Duration::from_secs(60);
        settings.cache.timeout = Duration::from_millis(100);
    })
    .await;
    let id = new_id("eu");
    user.seed(&id, "Ada").await;
    let read = tokio::time::timeout(Duration::from_secs(20), user.client().get_user(get(&id)))
        .await
        .expect("an answer within 20 s")
        .expect("the read is served from Postgres once the cache's deadline passes")
        .into_inner();
    assert_eq!(read.display_name, "Ada");
}

#[tokio::test]
async fn one_region_down_fails_only_that_region_fast_and_readiness_names_it() {
    let silent = black_hole().await;
    let eu_id = new_id("eu");
    let user = spawn_user_with(|settings| {
        settings.shards[1].1 = format!("postgres://postgres@{silent}/users_us").into();
        settings.database.acquire_timeout = Duration::from_millis(300);
    })
    .await;
    user.seed(&eu_id, "Ada").await;
    let mut client = user.client();

    let status = client.get_user(get(&new_id("us"))).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(
        client
            .get_user(get(&eu_id))
            .await
            .unwrap()
            .into_inner()
            .display_name,
        "Ada"
    );

    let response = reqwest::get(format!("http://{}/readyz", user.ops))
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "one dead region must not take every replica out"
    );
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["degraded"], true);
    assert_eq!(report["checks"]["postgres:eu"], "ok");
    assert_ne!(report["checks"]["postgres:us"], "ok", "{report}");
}

#[tokio::test]
async fn readiness_is_clean_when_everything_answers() {
    let user = spawn_user().await;
    let report: Value = reqwest::get(format!("http://{}/readyz", user.ops))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (report["ready"].as_bool(), report["degraded"].as_bool()),
        (Some(true), Some(false)),
        "{report}"
    );
}
