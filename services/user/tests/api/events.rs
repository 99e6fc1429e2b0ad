//! `user.registered` → a profile in the home shard: once per event, and a poison message
//! does not block the partition.

use std::time::Duration;

use platform_kafka::{Event as _, EventProducer, KafkaSettings, Record, wire};
use platform_proto::events::v1::UserRegistered;
use platform_proto::user::v1::{GetUserRequest, Profile};
use prost::Message as _;
use rdkafka::message::{Header, OwnedHeaders};
use uuid::Uuid;

use crate::helpers::{TestUser, new_id, spawn_user};

async fn publish(user: &TestUser, event_id: Uuid, key: &str, payload: &[u8]) {
    let settings = KafkaSettings::for_tests(user.kafka.bootstrap_servers(), "test-producer");
    let producer = EventProducer::new(&settings).unwrap();
    let id = event_id.to_string();
    let headers = OwnedHeaders::new()
        .insert(Header {
            key: wire::EVENT_ID,
            value: Some(&id),
        })
        .insert(Header {
            key: wire::EVENT_TYPE,
            value: Some(UserRegistered::TYPE),
        });
    let record = Record {
        topic: UserRegistered::TOPIC,
        key: Some(key.as_bytes()),
        payload,
        headers,
    };
    producer
        .publish(record)
        .await
        .expect("the broker takes the event");
}

fn registered(id: &str, name: &str) -> Vec<u8> {
    UserRegistered {
        user_id: id.to_owned(),
        email: format!("{id}@example.com"),
        display_name: name.to_owned(),
        region: id[..2].to_owned(),
        registered_at: None,
    }
    .encode_to_vec()
}

/// Waits (bounded) until the profile can be read; the consumer group's first assignment on
/// the embedded broker takes a few seconds.
async fn eventually(user: &TestUser, id: &str) -> Profile {
    let mut client = user.client();
    for _ in 0..300 {
        if let Ok(profile) = client
            .get_user(GetUserRequest {
                user_id: id.to_owned(),
            })
            .await
        {
            return profile.into_inner();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the profile of {id} never appeared");
}

async fn count(user: &TestUser, region: &str, id: &str) -> i64 {
    sqlx::query_scalar("select count(*) from profiles where id = $1")
        .bind(id)
        .fetch_one(&user.shard(region).await)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_registration_creates_the_profile_in_its_home_shard_only() {
    let user = spawn_user().await;
    let id = new_id("us");
    publish(&user, Uuid::now_v7(), &id, &registered(&id, "Grace")).await;
    assert_eq!(eventually(&user, &id).await.display_name, "Grace");
    assert_eq!(count(&user, "us", &id).await, 1);
    assert_eq!(count(&user, "eu", &id).await, 0);
}

#[tokio::test]
async fn the_same_event_delivered_twice_makes_one_profile() {
    let user = spawn_user().await;
    let (id, event) = (new_id("eu"), Uuid::now_v7());
    publish(&user, event, &id, &registered(&id, "Ada")).await;
    publish(&user, event, &id, &registered(&id, "Ada (again)")).await;
    // A later event on the same key (so the same partition) proves both were handled.
    let marker = new_id("eu");
    let same_partition_key = id.clone();
    publish(
        &user,
        Uuid::now_v7(),
        &same_partition_key,
        &registered(&marker, "Marker"),
    )
    .await;
    eventually(&user, &marker).await;
    assert_eq!(
        eventually(&user, &id).await.display_name,
        "Ada",
        "the redelivery changed nothing"
    );
    assert_eq!(count(&user, "eu", &id).await, 1);
    let applied: i64 =
        sqlx::query_scalar("select count(*) from processed_events where event_id = $1")
            .bind(event)
            .fetch_one(&user.shard("eu").await)
            .await
            .unwrap();
    assert_eq!(applied, 1);
}

#[tokio::test]
async fn a_poison_message_does_not_block_its_partition() {
    let user = spawn_user().await;
    let key = new_id("eu");
    publish(&user, Uuid::now_v7(), &key, b"\xff not protobuf").await;
    let after = new_id("eu");
    publish(&user, Uuid::now_v7(), &key, &registered(&after, "After")).await;
    assert_eq!(eventually(&user, &after).await.display_name, "After");
}
