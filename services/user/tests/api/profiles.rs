//! Reading and updating profiles: routed to the home shard, cached, invalidated on write.

use platform_proto::user::v1::{BatchGetUsersRequest, UpdateProfileRequest};
use platform_testkit::{error_reason, violated_fields};
use tonic::Code;

use crate::helpers::{get, new_id, spawn_user};

#[tokio::test]
async fn a_profile_is_read_from_its_home_shard() {
    let user = spawn_user().await;
    let id = new_id("us");
    user.seed(&id, "Grace").await;
    let profile = user.client().get_user(get(&id)).await.unwrap().into_inner();
    assert_eq!(
        (profile.display_name.as_str(), profile.region.as_str()),
        ("Grace", "us")
    );
    assert!(profile.created_at.is_some());
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_not_found() {
    let user = spawn_user().await;
    for id in [new_id("eu"), new_id("mars"), "not-an-id".to_owned()] {
        let status = user.client().get_user(get(&id)).await.unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{id}");
        assert_eq!(error_reason(&status), "USER_NOT_FOUND");
    }
}

#[tokio::test]
async fn an_update_shows_at_once_in_the_next_read() {
    let user = spawn_user().await;
    let id = new_id("eu");
    user.seed(&id, "Ada").await;
    let mut client = user.client();
    client.get_user(get(&id)).await.unwrap(); // now cached
    let updated = client
        .update_profile(UpdateProfileRequest {
            user_id: id.clone(),
            display_name: Some("Ada L.".into()),
            bio: Some("Analyst".into()),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.display_name, "Ada L.");
    let read = client.get_user(get(&id)).await.unwrap().into_inner();
    assert_eq!(
        (read.display_name.as_str(), read.bio.as_str()),
        ("Ada L.", "Analyst")
    );
}

#[tokio::test]
async fn reads_are_served_from_the_cache_once_loaded() {
    let user = spawn_user().await;
    let id = new_id("eu");
    user.seed(&id, "Cached").await;
    let mut client = user.client();
    client.get_user(get(&id)).await.unwrap();
    // Change the row behind the service's back: a cached read does not see it.
    sqlx::query("update profiles set display_name = 'Changed' where id = $1")
        .bind(&id)
        .execute(&user.shard("eu").await)
        .await
        .unwrap();
    let read = client.get_user(get(&id)).await.unwrap().into_inner();
    assert_eq!(read.display_name, "Cached");
}

#[tokio::test]
async fn an_unknown_id_is_cached_as_absent_briefly() {
    let user = spawn_user().await;
    let id = new_id("eu");
    let mut client = user.client();
    assert_eq!(
        client.get_user(get(&id)).await.unwrap_err().code(),
        Code::NotFound
    );
    user.seed(&id, "Late").await; // appears without going through the service
    assert_eq!(
        client.get_user(get(&id)).await.unwrap_err().code(),
        Code::NotFound,
        "the absence was cached"
    );
}

#[tokio::test]
async fn invalid_updates_name_each_bad_field() {
    let user = spawn_user().await;
    let id = new_id("eu");
    user.seed(&id, "Ada").await;
    let status = user
        .client()
        .update_profile(UpdateProfileRequest {
            user_id: id,
            display_name: Some("  ".into()),
            bio: Some("x".repeat(501)),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["display_name", "bio"]);
}

#[tokio::test]
async fn a_batch_spans_shards_keeps_order_and_skips_unknown_ids() {
    let user = spawn_user().await;
    let (eu, us, unknown) = (new_id("eu"), new_id("us"), new_id("us"));
    user.seed(&eu, "E").await;
    user.seed(&us, "U").await;
    let mut client = user.client();
    client.get_user(get(&eu)).await.unwrap(); // one from cache, one from Postgres
    let batch = client
        .batch_get_users(BatchGetUsersRequest {
            user_ids: vec![us.clone(), unknown, eu.clone(), "junk".into()],
        })
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<_> = batch.profiles.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, [us.as_str(), eu.as_str()]);
}
