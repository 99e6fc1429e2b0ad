//! Publishing through the outbox and the relay.

use std::collections::HashSet;
use std::time::Duration;

use opentelemetry::trace::TraceContextExt as _;
use platform_kafka::Event as _;
use platform_kafka::OutboxRelay;
use platform_kafka::outbox::{PRUNE_LOCK_KEY, enqueue};
use platform_testkit::{event_id, header};
use rdkafka::Message as _;
use rdkafka::message::OwnedMessage;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use uuid::Uuid;

use crate::helpers::{Note, TOPIC, body, event, ids_of, spawn_kafka, spawn_until_stopped};

/// Asserts that `records` carry each of the `enqueued` events, and each exactly once.
fn assert_each_once(records: Vec<OwnedMessage>, enqueued: &HashSet<Uuid>) {
    let ids = ids_of(records);
    assert_eq!(ids.len(), enqueued.len(), "each event once: {ids:?}");
    assert_eq!(ids.into_iter().collect::<HashSet<_>>(), *enqueued);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_event_is_published_once_with_its_key_id_type_and_trace_context() {
    let h = spawn_kafka().await;
    let span = tracing::info_span!("register user");
    let trace_id = span.context().span().span_context().trace_id();
    let id = async {
        let mut tx = h.pool.begin().await.unwrap();
        let id = enqueue(&mut tx, &event("user-1", b"payload"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    }
    .instrument(span)
    .await;

    h.relay_all().await;

    let messages = h.read_topic(TOPIC).await;
    assert_eq!(messages.len(), 1, "published exactly once");
    let message = &messages[0];
    assert_eq!(message.key(), Some(&b"user-1"[..]));
    assert_eq!(body(message), b"payload");
    assert_eq!(event_id(message), Some(id));
    assert_eq!(header(message, "event-type").as_deref(), Some(Note::TYPE));
    let traceparent = header(message, "traceparent").expect("a traceparent header");
    assert!(
        traceparent.contains(&trace_id.to_string()),
        "{traceparent} continues trace {trace_id}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_whose_transaction_rolled_back_is_never_published() {
    let h = spawn_kafka().await;
    let mut tx = h.pool.begin().await.unwrap();
    enqueue(&mut tx, &event("user-1", b"rolled back"))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    // A committed event after it: once that one is out, the relay has seen everything.
    let committed = h.enqueue_committed("user-1", b"committed").await;

    h.relay_all().await;

    let ids: Vec<Uuid> = ids_of(h.read_topic(TOPIC).await);
    assert_eq!(ids, [committed]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_committed_while_no_relay_ran_are_published_once_a_relay_starts() {
    let h = spawn_kafka().await;
    // The service committed and died before any relay published: the rows just wait.
    let mut enqueued = HashSet::new();
    for i in 0..10 {
        enqueued.insert(h.enqueue_committed(&format!("user-{i}"), b"x").await);
    }
    assert_eq!(h.pending().await, 10);

    h.relay_all().await;

    assert_each_once(h.read_topic(TOPIC).await, &enqueued);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_at_once_publish_each_of_200_events_exactly_once() {
    let h = spawn_kafka().await;
    let key = |i: usize| format!("user-{i}");
    // A backlog both relays find when they start, then more while both poll, in transactions
    // of ten as a busy service would write them, with both relays woken after every commit.
    let mut enqueued = HashSet::new();
    for i in 0..100 {
        enqueued.insert(h.enqueue_committed(&key(i), b"x").await);
    }
    let relays = [h.relay(), h.relay()];
    let running = relays
        .clone()
        .map(|relay| spawn_until_stopped(|stop| relay.run(stop)));
    for batch in 10..20 {
        let mut tx = h.pool.begin().await.unwrap();
        for i in 0..10 {
            let id = enqueue(&mut tx, &event(&key(batch * 10 + i), b"x"))
                .await
                .unwrap();
            enqueued.insert(id);
        }
        tx.commit().await.unwrap();
        relays.iter().for_each(OutboxRelay::wake);
    }
    h.all_sent().await;
    for relay in running {
        relay.stop().await;
    }

    assert_eq!(enqueued.len(), 200);
    assert_each_once(h.read_topic(TOPIC).await, &enqueued);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_deletes_only_old_sent_rows_and_skips_while_another_replica_holds_the_lease() {
    let h = spawn_kafka().await;
    let old = h.enqueue_committed("user-1", b"old").await;
    let recent = h.enqueue_committed("user-1", b"recent").await;
    let pending = h.enqueue_committed("user-1", b"pending").await;
    sent_ago(&h.pool, old, "2 hours").await;
    sent_ago(&h.pool, recent, "1 minute").await;
    let relay = h.relay();
    let hour = Duration::from_secs(3600);

    assert_eq!(relay.prune_sent(hour).await.unwrap(), Some(1));
    assert_eq!(remaining(&h.pool).await, HashSet::from([recent, pending]));

    // Another replica is pruning: this one skips and deletes nothing.
    sent_ago(&h.pool, recent, "2 hours").await;
    let mut other_replica = h.pool.begin().await.unwrap();
    let leased: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock($1)")
        .bind(PRUNE_LOCK_KEY)
        .fetch_one(&mut *other_replica)
        .await
        .unwrap();
    assert!(leased);
    assert_eq!(relay.prune_sent(hour).await.unwrap(), None);
    assert_eq!(remaining(&h.pool).await, HashSet::from([recent, pending]));

    // The lease ends with the other replica's transaction.
    other_replica.rollback().await.unwrap();
    assert_eq!(relay.prune_sent(hour).await.unwrap(), Some(1));
    assert_eq!(remaining(&h.pool).await, HashSet::from([pending]));
}

async fn sent_ago(pool: &sqlx::PgPool, id: Uuid, ago: &str) {
    sqlx::query("update outbox set sent_at = now() - $2::interval where id = $1")
        .bind(id)
        .bind(ago)
        .execute(pool)
        .await
        .unwrap();
}

async fn remaining(pool: &sqlx::PgPool) -> HashSet<Uuid> {
    sqlx::query_scalar::<_, Uuid>("select id from outbox")
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_lost_its_log_gets_every_kept_event_again_and_the_same_broker_none() {
    let h = spawn_kafka().await;
    let mut ids = HashSet::new();
    for key in ["user-1", "user-2", "user-1"] {
        ids.insert(h.enqueue_committed(key, b"x").await);
    }
    h.relay_all().await;

    // The native run restarted: a new embedded broker (empty, another cluster id), a new relay
    // over the same database.
    let fresh = platform_kafka::EmbeddedKafka::start(&[TOPIC]).unwrap();
    let settings = h.settings.clone().with_brokers(fresh.bootstrap_servers());
    let producer = platform_kafka::EventProducer::new(&settings).unwrap();
    let relay = OutboxRelay::new(h.pool.clone(), producer, &settings);
    let relaying = spawn_until_stopped(|stop| relay.run(stop));
    platform_testkit::eventually("the new broker to get every kept event", || async {
        fresh.records(TOPIC).await.unwrap().len() >= ids.len()
    })
    .await;
    h.all_sent().await;
    relaying.stop().await;
    assert_each_once(fresh.records(TOPIC).await.unwrap(), &ids);

    // A relay restarted against the broker that has them sends them nowhere again: after one
    // more event it has exactly one more record.
    let producer = platform_kafka::EventProducer::new(&settings).unwrap();
    let relay = OutboxRelay::new(h.pool.clone(), producer, &settings);
    let relaying = spawn_until_stopped(|stop| relay.run(stop));
    h.enqueue_committed("user-3", b"x").await;
    h.all_sent().await;
    relaying.stop().await;
    assert_eq!(fresh.records(TOPIC).await.unwrap().len(), ids.len() + 1);
}
