//! Consuming: idempotent effects, retries and the dead-letter topic, trace continuation.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::trace::{TraceContextExt as _, TraceId};
use platform_kafka::outbox::enqueue;
use platform_kafka::wire::dead_letter_topic;
use platform_kafka::{Delivery, Event as _, EventHandler, EventProducer, HandlerError, Record};
use platform_testkit::{event_id, header, within};
use rdkafka::Message as _;
use rdkafka::message::OwnedHeaders;
use tokio::sync::mpsc;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::helpers::{
    Note, Reporting, TOPIC, TestKafka, body, consume_with, event, spawn_kafka, spawn_until_stopped,
};

/// Applies each event once (a row in `effects`), and reports every call it gets.
struct RecordEffect {
    pool: sqlx::PgPool,
    calls: mpsc::UnboundedSender<Delivery<Note>>,
}

impl EventHandler for RecordEffect {
    type Event = Note;

    async fn handle(&self, event: &Delivery<Note>) -> Result<(), HandlerError> {
        let mut tx = self.pool.begin().await.map_err(HandlerError::retryable)?;
        if event
            .idempotency_token()
            .first_delivery(&mut tx)
            .await
            .map_err(HandlerError::retryable)?
        {
            sqlx::query("insert into effects (event_id) values ($1)")
                .bind(event.id)
                .execute(&mut *tx)
                .await
                .map_err(HandlerError::retryable)?;
        }
        tx.commit().await.map_err(HandlerError::retryable)?;
        let _ = self.calls.send(event.clone());
        Ok(())
    }
}

/// Fails every `poison` payload; reports the others, and the trace each ran in.
struct FailPoison {
    handled: mpsc::UnboundedSender<(Delivery<Note>, TraceId)>,
}

impl EventHandler for FailPoison {
    type Event = Note;

    async fn handle(&self, event: &Delivery<Note>) -> Result<(), HandlerError> {
        if event.event.body == b"poison" {
            return Err(HandlerError::permanent(anyhow::anyhow!(
                "cannot apply a poison pill"
            )));
        }
        let trace_id = tracing::Span::current()
            .context()
            .span()
            .span_context()
            .trace_id();
        let _ = self.handled.send((event.clone(), trace_id));
        Ok(())
    }
}

/// Fails transiently for one key while its dependency is `down`, as a handler whose region's
/// database refuses connections would; reports every call with its outcome.
struct DownForOneKey {
    key: String,
    down: Arc<AtomicBool>,
    calls: mpsc::UnboundedSender<(Delivery<Note>, bool)>,
}

impl EventHandler for DownForOneKey {
    type Event = Note;

    async fn handle(&self, event: &Delivery<Note>) -> Result<(), HandlerError> {
        let fails = event.key.as_deref() == Some(&self.key) && self.down.load(Ordering::SeqCst);
        let _ = self.calls.send((event.clone(), !fails));
        if fails {
            return Err(HandlerError::retryable(anyhow::anyhow!(
                "the region's database refuses connections"
            )));
        }
        Ok(())
    }
}

/// The first event a new [`FailPoison`] member of the group handles, and its trace.
async fn first_handled(h: &TestKafka, what: &str) -> (Delivery<Note>, TraceId) {
    let (tx, mut handled) = mpsc::unbounded_channel();
    let consuming = h.consume(FailPoison { handled: tx });
    let first = within(what, handled.recv()).await.unwrap();
    consuming.stop().await;
    first
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_delivered_twice_has_one_effect() {
    let h = spawn_kafka().await;
    sqlx::query("create table effects (event_id uuid not null)")
        .execute(&h.pool)
        .await
        .unwrap();
    let id = h.enqueue_committed("user-1", b"x").await;
    let (relay, relaying) = h.relaying().await;
    // As if the relay had died after publishing and before marking the row sent.
    sqlx::query("update outbox set sent_at = null")
        .execute(&h.pool)
        .await
        .unwrap();
    relay.wake();
    h.all_sent().await;
    relaying.stop().await;
    assert_eq!(
        h.read_topic(TOPIC).await.len(),
        2,
        "the event is on the topic twice"
    );

    let (calls, mut handled) = mpsc::unbounded_channel();
    let consuming = h.consume(RecordEffect {
        pool: h.pool.clone(),
        calls,
    });
    let first = within("the first delivery", handled.recv()).await.unwrap();
    let second = within("the second delivery", handled.recv()).await.unwrap();
    consuming.stop().await;

    assert_eq!((first.id, second.id), (id, id));
    let effects: i64 = sqlx::query_scalar("select count(*) from effects")
        .fetch_one(&h.pool)
        .await
        .unwrap();
    assert_eq!(effects, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_event_is_dead_lettered_and_later_events_on_its_partition_are_processed() {
    let h = spawn_kafka().await;
    let poison = h.enqueue_committed("user-1", b"poison").await;
    let good = h.enqueue_committed("user-1", b"good").await;
    h.relay_all().await;

    let (after, _) = first_handled(&h, "the event after the poison").await;

    let dead = h.read_topic(&dead_letter_topic(TOPIC)).await;
    assert_eq!(dead.len(), 1);
    let dead = &dead[0];
    assert_eq!(event_id(dead), Some(poison));
    assert_eq!(dead.key(), Some(&b"user-1"[..]));
    assert_eq!(body(dead), b"poison");
    let error = header(dead, "dlq-error").unwrap();
    assert!(error.contains("cannot apply a poison pill"), "{error}");
    assert_eq!(
        header(dead, "dlq-attempts").as_deref(),
        Some("1"),
        "a permanent failure is not retried"
    );
    assert_eq!(header(dead, "dlq-original-topic").as_deref(), Some(TOPIC));
    assert_eq!(header(dead, "event-type").as_deref(), Some(Note::TYPE));

    assert_eq!(after.id, good);
    let partition = header(dead, "dlq-original-partition").unwrap();
    assert_eq!(
        after.partition.to_string(),
        partition,
        "same key, same partition"
    );
    let poison_offset: i64 = header(dead, "dlq-original-offset")
        .unwrap()
        .parse()
        .unwrap();
    assert!(after.offset > poison_offset);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_without_an_event_id_goes_to_the_dead_letter_topic_unhandled() {
    let h = spawn_kafka().await;
    let producer = EventProducer::new(&h.settings).unwrap();
    producer
        .publish(Record {
            topic: TOPIC,
            key: Some(b"user-1"),
            payload: b"anonymous",
            headers: OwnedHeaders::new(),
        })
        .await
        .unwrap();
    let good = h.enqueue_committed("user-1", b"good").await;
    h.relay_all().await;

    let (after, _) = first_handled(&h, "the event after it").await;

    assert_eq!(
        after.id, good,
        "the handler never saw the record without an id"
    );
    let dead = h.read_topic(&dead_letter_topic(TOPIC)).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].payload(), Some(&b"anonymous"[..]));
    assert_eq!(header(&dead[0], "dlq-attempts").as_deref(), Some("0"));
    let error = header(&dead[0], "dlq-error").unwrap();
    assert!(error.contains("event-id"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handler_runs_in_the_trace_that_enqueued_the_event() {
    let h = spawn_kafka().await;
    let span = tracing::info_span!("register user");
    let trace_id = span.context().span().span_context().trace_id();
    async {
        let mut tx = h.pool.begin().await.unwrap();
        enqueue(&mut tx, &event("user-1", b"x")).await.unwrap();
        tx.commit().await.unwrap();
    }
    .instrument(span)
    .await;
    let relay = h.relay();
    let relaying = spawn_until_stopped(|stop| relay.run(stop));

    let (_, handled_in) = first_handled(&h, "the event").await;
    relaying.stop().await;

    assert_ne!(trace_id, TraceId::INVALID);
    assert_eq!(handled_in, trace_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_are_committed_only_after_the_handler_succeeded() {
    let h = spawn_kafka().await;
    let first = h.enqueue_committed("user-1", b"first").await;
    let (relay, relaying) = h.relaying().await;

    // A replica whose handler fails is stopped while it waits to retry: nothing is committed.
    let mut patient = h.settings.clone();
    patient.retry_backoff = std::time::Duration::from_secs(60);
    let (calls, mut failed) = mpsc::unbounded_channel();
    let failing = consume_with(&patient, Reporting::failing(calls));
    let seen = within("the failing attempt", failed.recv()).await.unwrap();
    failing.stop().await;
    assert_eq!(seen.id, first);

    // The next member of the group gets the event again, handles it, and commits.
    let (redelivered, _) = first_handled(&h, "the redelivery").await;
    assert_eq!(redelivered.id, first);

    // The one after that starts past it.
    let second = h.enqueue_committed("user-1", b"second").await;
    relay.wake();
    h.all_sent().await;
    relaying.stop().await;
    let (after_restart, _) = first_handled(&h, "the next event").await;
    assert_eq!(
        after_restart.id, second,
        "the committed event is not delivered again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_holds_only_its_partition_until_it_passes() {
    let h = spawn_kafka().await;
    // Keys over every partition; the first is the one whose dependency is down.
    let keys: Vec<String> = (0..12).map(|i| format!("user-{i}")).collect();
    let mut ids = HashMap::new();
    for round in 0..2 {
        for key in &keys {
            let id = h
                .enqueue_committed(key, format!("{round}").as_bytes())
                .await;
            ids.insert(id, key.clone());
        }
    }
    h.relay_all().await;
    let records = h.read_topic(TOPIC).await;
    let partition_of = |key: &str| {
        records
            .iter()
            .find(|r| r.key() == Some(key.as_bytes()))
            .map(|r| r.partition())
            .unwrap()
    };
    let stuck = keys[0].clone();
    let stuck_partition = partition_of(&stuck);
    let flowing: Vec<&String> = keys
        .iter()
        .filter(|k| partition_of(k) != stuck_partition)
        .collect();
    assert!(!flowing.is_empty(), "some keys land on other partitions");

    let down = Arc::new(AtomicBool::new(true));
    let (calls, mut seen) = mpsc::unbounded_channel();
    let consuming = h.consume(DownForOneKey {
        key: stuck.clone(),
        down: down.clone(),
        calls,
    });
    // While it is down: every event of the other partitions is handled, the stuck one is
    // tried again and again, and nothing after it on its partition is handled.
    let mut handled = Vec::new();
    let mut failed_attempts = 0;
    while handled
        .iter()
        .filter(|e: &&Delivery<Note>| e.partition != stuck_partition)
        .count()
        < flowing.len() * 2
        || failed_attempts < 3
    {
        let (event, ok) = within("the events of the other partitions", seen.recv())
            .await
            .unwrap();
        if ok {
            assert_ne!(
                event.partition, stuck_partition,
                "nothing on the held partition passes the failing event"
            );
            handled.push(event);
        } else {
            assert_eq!(event.key.as_deref(), Some(stuck.as_str()));
            failed_attempts += 1;
        }
    }

    // Back up: the held event passes, then the rest of its partition, in order.
    down.store(false, Ordering::SeqCst);
    let on_stuck_partition = records
        .iter()
        .filter(|r| r.partition() == stuck_partition)
        .count();
    let mut released = Vec::new();
    while released.len() < on_stuck_partition {
        let (event, ok) = within("the held partition to move again", seen.recv())
            .await
            .unwrap();
        if ok && event.partition == stuck_partition {
            released.push(event.offset);
        }
    }
    consuming.stop().await;
    let mut in_order = released.clone();
    in_order.sort_unstable();
    assert_eq!(released, in_order, "the partition keeps its order");
    assert!(
        h.read_topic(&dead_letter_topic(TOPIC)).await.is_empty(),
        "a failure that can pass is never dead-lettered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_failing_past_the_retry_budget_is_dead_lettered_with_the_reason() {
    let h = spawn_kafka().await;
    let id = h.enqueue_committed("user-1", b"x").await;
    h.relay_all().await;

    let mut short = h.settings.clone();
    short.retry_budget = Duration::from_secs(1);
    let (calls, mut failed) = mpsc::unbounded_channel();
    let consuming = consume_with(&short, Reporting::failing(calls));
    platform_testkit::eventually("the event to be dead-lettered", || async {
        !h.read_topic(&dead_letter_topic(TOPIC)).await.is_empty()
    })
    .await;
    consuming.stop().await;
    let mut attempts = 0;
    while failed.try_recv().is_ok() {
        attempts += 1;
    }
    assert!(
        attempts > 1,
        "retried before giving up ({attempts} attempts)"
    );
    let dead = h.read_topic(&dead_letter_topic(TOPIC)).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(event_id(&dead[0]), Some(id));
    let error = header(&dead[0], "dlq-error").unwrap();
    assert!(
        error.contains("KAFKA_RETRY_BUDGET") && error.contains("the database is down"),
        "{error}"
    );
}
