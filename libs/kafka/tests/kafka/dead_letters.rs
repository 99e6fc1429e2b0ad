//! Dead letters: listed with their reasons, re-driven (one, then the rest, then nothing),
//! discarded, and counted by the gauge.

use std::collections::HashSet;
use std::time::Duration;

use platform_kafka::dead_letters::{self, DeadLetterGauge, Selection};
use platform_kafka::wire::dead_letter_topic;
use platform_kafka::{Delivery, Event as _, EventHandler, EventProducer, HandlerError};
use platform_testkit::{event_id, eventually, header, within};
use rdkafka::Message as _;
use rdkafka::message::{Headers as _, OwnedMessage};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::helpers::{
    Note, Reporting, TOPIC, TestKafka, body, event, ids_of, spawn_kafka, spawn_until_stopped,
};

/// Keys that spread the dead letters over partitions.
const DISTINCT_KEYS: [&str; 3] = ["user-1", "user-2", "user-3"];
/// One key: the dead letters share a partition, in order.
const ONE_KEY: [&str; 3] = ["user-1"; 3];

/// Refuses every `poison-*` payload for good, naming it; reports every event it applied.
struct RefusePoison {
    applied: mpsc::UnboundedSender<Delivery<Note>>,
}

impl EventHandler for RefusePoison {
    type Event = Note;

    async fn handle(&self, event: &Delivery<Note>) -> Result<(), HandlerError> {
        let payload = String::from_utf8_lossy(&event.event.body);
        if payload.starts_with("poison") {
            return Err(HandlerError::permanent(anyhow::anyhow!(
                "cannot apply {payload}"
            )));
        }
        let _ = self.applied.send(event.clone());
        Ok(())
    }
}

/// Publishes `poison-1..3` with `keys` and a good event, and consumes until the three poisons
/// are dead-lettered. Returns their event ids, in that order. One key for all puts them in one
/// partition, in that order, so picking the second is picking out of order.
async fn three_dead_letters(h: &TestKafka, keys: [&str; 3]) -> Vec<Uuid> {
    let producer = EventProducer::new(&h.settings).unwrap();
    let mut ids = Vec::new();
    for (n, key) in (1..=3).zip(keys) {
        let id = Uuid::now_v7();
        let poison = event(key, format!("poison-{n}").as_bytes());
        producer.publish_event(id, &poison).await.unwrap();
        ids.push(id);
    }
    producer
        .publish_event(Uuid::now_v7(), &event("user-4", b"good"))
        .await
        .unwrap();
    let (applied, _applied) = mpsc::unbounded_channel();
    let consuming = h.consume(RefusePoison { applied });
    let dlq = dead_letter_topic(TOPIC);
    eventually("three dead letters", || async {
        h.read_topic(&dlq).await.len() == 3
    })
    .await;
    consuming.stop().await;
    ids
}

/// The records of `topic` that came back from the dead-letter topic.
fn redriven_records(topic: &[OwnedMessage]) -> Vec<&OwnedMessage> {
    topic
        .iter()
        .filter(|m| header(m, "redriven-from").is_some())
        .collect()
}

fn waiting_ids(letters: &[platform_kafka::DeadLetter]) -> HashSet<String> {
    letters
        .iter()
        .filter(|l| l.waiting)
        .filter_map(|l| l.event_id.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_with_where_they_failed_and_why() {
    let h = spawn_kafka().await;
    let ids = three_dead_letters(&h, DISTINCT_KEYS).await;
    let dead_letters = h.dead_letters();

    let letters = dead_letters.list(None).await.unwrap();
    assert_eq!(letters.len(), 3, "{letters:#?}");
    let originals = h.read_topic(TOPIC).await;
    for (n, id) in ids.iter().enumerate() {
        let n = n + 1;
        let letter = letters
            .iter()
            .find(|l| l.event_id == Some(id.to_string()))
            .unwrap_or_else(|| panic!("poison-{n} is listed: {letters:#?}"));
        let original = originals.iter().find(|m| event_id(m) == Some(*id)).unwrap();
        assert_eq!(letter.topic, dead_letter_topic(TOPIC));
        assert_eq!(letter.original_topic, TOPIC);
        assert_eq!(letter.original_partition, Some(original.partition()));
        assert_eq!(letter.original_offset, Some(original.offset()));
        assert_eq!(letter.event_type.as_deref(), Some(Note::TYPE));
        assert_eq!(letter.key, Some(format!("user-{n}")));
        assert!(
            letter.reason.contains(&format!("cannot apply poison-{n}")),
            "{letter:?}"
        );
        assert!(letter.attempts.is_some_and(|a| a >= 1), "{letter:?}");
        assert!(letter.dead_lettered_at.is_some(), "{letter:?}");
        assert!(letter.waiting, "{letter:?}");
    }
    let unknown = dead_letters.list(Some("media.uploaded")).await.unwrap_err();
    assert!(unknown.is_usage(), "{unknown}");

    // The same through the command, as an operator runs it.
    let list = ["list".to_owned()];
    let output = dead_letters::execute("user", &h.settings, &[TOPIC], &list).await;
    assert_eq!(output.status, 0, "{output:?}");
    assert!(
        output
            .stdout
            .starts_with(&format!("{TOPIC}.dlq: 3 dead letters, 3 waiting")),
        "{}",
        output.stdout
    );
    for id in &ids {
        assert!(output.stdout.contains(&id.to_string()), "{}", output.stdout);
    }
    assert!(
        output.stdout.contains("cannot apply poison-2"),
        "{}",
        output.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redriving_one_by_id_sends_exactly_it_back_and_a_consumer_receives_it() {
    let h = spawn_kafka().await;
    let ids = three_dead_letters(&h, ONE_KEY).await;
    let before = h.read_topic(TOPIC).await.len();
    let dead_letters = h.dead_letters();

    let redriven = dead_letters
        .redrive(Some(TOPIC), &Selection::Ids(vec![ids[1]]))
        .await
        .unwrap();
    assert_eq!(redriven.handled.len(), 1, "{redriven:#?}");
    assert_eq!(redriven.handled[0].event_id, Some(ids[1].to_string()));

    let topic = h.read_topic(TOPIC).await;
    assert_eq!(topic.len(), before + 1, "exactly one record was sent back");
    let sent = redriven_records(&topic);
    assert_eq!(sent.len(), 1);
    let sent = sent[0];
    assert_eq!(event_id(sent), Some(ids[1]));
    assert_eq!(sent.key(), Some(&b"user-1"[..]));
    assert_eq!(body(sent), b"poison-2");
    assert_eq!(header(sent, "event-type").as_deref(), Some(Note::TYPE));
    let letter = &redriven.handled[0];
    assert_eq!(
        header(sent, "redriven-from"),
        Some(format!(
            "{}/{}/{}",
            letter.topic, letter.partition, letter.offset
        ))
    );
    let names: Vec<&str> = sent.headers().unwrap().iter().map(|h| h.key).collect();
    assert!(
        !names.iter().any(|n| n.starts_with("dlq-")),
        "no dlq-* header goes back: {names:?}"
    );

    let waiting = waiting_ids(&dead_letters.list(None).await.unwrap());
    let expected: HashSet<String> = [ids[0], ids[2]].iter().map(Uuid::to_string).collect();
    assert_eq!(waiting, expected);

    // The group is past everything else, so the re-driven event is all a consumer gets.
    let (applied, mut received) = mpsc::unbounded_channel();
    let consuming = h.consume(Reporting::applying(applied));
    let got = within("the re-driven event", received.recv())
        .await
        .unwrap();
    assert_eq!(got.id, ids[1]);
    assert_eq!(got.event.body, b"poison-2");
    tokio::time::sleep(Duration::from_millis(500)).await;
    consuming.stop().await;
    assert!(received.try_recv().is_err(), "nothing else was delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redriving_all_sends_the_rest_and_a_second_redrive_sends_nothing() {
    let h = spawn_kafka().await;
    let ids = three_dead_letters(&h, ONE_KEY).await;
    let dead_letters = h.dead_letters();
    let letters = dead_letters.list(None).await.unwrap();
    let second = letters
        .iter()
        .find(|l| l.event_id == Some(ids[1].to_string()))
        .unwrap();
    let before = h.read_topic(TOPIC).await.len();

    // One picked by its place in the dead-letter topic first, as `--offset P:O` does.
    let one = Selection::Offsets(vec![(second.partition, second.offset)]);
    let redriven = dead_letters.redrive(Some(TOPIC), &one).await.unwrap();
    assert_eq!(redriven.handled.len(), 1);
    assert_eq!(h.read_topic(TOPIC).await.len(), before + 1);

    let rest = dead_letters.redrive(None, &Selection::All).await.unwrap();
    let sent: HashSet<_> = rest
        .handled
        .iter()
        .filter_map(|l| l.event_id.clone())
        .collect();
    let expected: HashSet<String> = [ids[0], ids[2]].iter().map(Uuid::to_string).collect();
    assert_eq!(sent, expected, "the two still waiting, and only them");
    let topic = h.read_topic(TOPIC).await;
    assert_eq!(topic.len(), before + 3);
    let redriven = ids_of(redriven_records(&topic));
    assert_eq!(redriven.len(), 3);
    assert_eq!(
        redriven.into_iter().collect::<HashSet<_>>(),
        ids.iter().copied().collect()
    );

    let again = dead_letters.redrive(None, &Selection::All).await.unwrap();
    assert!(again.handled.is_empty(), "{again:#?}");
    let by_id = dead_letters
        .redrive(None, &Selection::Ids(vec![ids[0]]))
        .await
        .unwrap();
    assert!(by_id.handled.is_empty(), "{by_id:#?}");
    assert_eq!(by_id.already.len(), 1, "reported as handled before");
    assert_eq!(
        h.read_topic(TOPIC).await.len(),
        before + 3,
        "nothing more sent"
    );
    assert!(waiting_ids(&dead_letters.list(None).await.unwrap()).is_empty());

    let unknown = Uuid::now_v7();
    let error = dead_letters
        .redrive(None, &Selection::Ids(vec![unknown]))
        .await
        .unwrap_err();
    assert!(error.to_string().contains(&unknown.to_string()), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gauge_counts_waiting_dead_letters_until_they_are_handled() {
    let recorder = platform_runtime::metrics::handle();
    let h = spawn_kafka().await;
    let ids = three_dead_letters(&h, DISTINCT_KEYS).await;
    let gauge = DeadLetterGauge::new(&h.settings, &[TOPIC]).every(Duration::from_millis(100));
    let gauging = spawn_until_stopped(move |stop| gauge.run(stop));
    let waiting = || {
        let line = format!("kafka_dead_letters_waiting{{topic=\"{TOPIC}.dlq\"}} ");
        let text = recorder.render();
        text.lines()
            .find_map(|l| l.strip_prefix(&line))
            .map(|v| v.trim().to_owned())
    };
    eventually("the gauge to report 3", || async {
        waiting().as_deref() == Some("3")
    })
    .await;

    let dead_letters = h.dead_letters();
    let before = h.read_topic(TOPIC).await.len();
    let discarded = dead_letters
        .discard(None, &Selection::Ids(vec![ids[2]]))
        .await
        .unwrap();
    assert_eq!(discarded.handled.len(), 1);
    assert_eq!(
        h.read_topic(TOPIC).await.len(),
        before,
        "discarding sends nothing"
    );
    eventually("the gauge to report 2", || async {
        waiting().as_deref() == Some("2")
    })
    .await;

    dead_letters.redrive(None, &Selection::All).await.unwrap();
    eventually("the gauge to report 0", || async {
        waiting().as_deref() == Some("0")
    })
    .await;
    gauging.stop().await;
}
