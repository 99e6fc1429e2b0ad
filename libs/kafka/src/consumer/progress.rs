//! The group's progress, seen from outside the group: what an operator needs to tell a
//! consumer that works from one that looks healthy and does nothing (a restarted member
//! assigned no partitions while the broker still counts a dead one, a partition held by an
//! event that keeps failing).

use std::time::Duration;

use anyhow::Context as _;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use crate::KafkaSettings;
use crate::dead_letters::client::off_thread;

/// How often the group's progress is sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(15);
/// The deadline of one request to the cluster.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// One partition's progress: its end, and the group's committed offset (`None`: nothing
/// committed yet).
struct Progress {
    topic: String,
    partition: i32,
    low: i64,
    high: i64,
    committed: Option<i64>,
}

/// Samples, every 15 s until `stop`, every partition of `topics` whether or not this member
/// holds it, and sets `kafka_consumer_group_lag{topic,partition}` (records the group has not
/// committed) and `kafka_consumer_group_committed_offset{topic,partition}`. Lag that stays
/// above 0 while the committed offset does not move is a stuck group (the
/// `ConsumerGroupStuck` alert). A client that reads the group's offsets without joining it.
pub(super) async fn report(settings: KafkaSettings, topics: Vec<String>, stop: CancellationToken) {
    let client = match client(&settings) {
        Ok(client) => std::sync::Arc::new(client),
        Err(e) => {
            tracing::warn!(error = %e, "cannot sample the consumer group's progress");
            return;
        }
    };
    loop {
        let (sampler, topics) = (client.clone(), topics.clone());
        match off_thread("sampling the consumer group", move || {
            sample(&sampler, &topics)
        })
        .await
        {
            Ok(progress) => record(&progress),
            Err(e) => tracing::debug!(error = %e, "sampling the consumer group failed"),
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(SAMPLE_EVERY) => {}
        }
    }
    // librdkafka's destructor can block: not on the runtime.
    let _ = std::thread::Builder::new()
        .name("kafka-progress-drop".to_owned())
        .spawn(move || drop(client));
}

fn client(settings: &KafkaSettings) -> anyhow::Result<BaseConsumer> {
    ClientConfig::new()
        .set("bootstrap.servers", settings.bootstrap_servers()?)
        .set("client.id", format!("{}-progress", settings.client_id))
        .set("group.id", &settings.consumer_group)
        .set("enable.auto.commit", "false")
        .create()
        .context("creating the Kafka client for the group's progress")
}

fn sample(client: &BaseConsumer, topics: &[String]) -> anyhow::Result<Vec<Progress>> {
    let mut wanted = TopicPartitionList::new();
    for topic in topics {
        let metadata = client.fetch_metadata(Some(topic), REQUEST_TIMEOUT)?;
        for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
            wanted.add_partition(topic, partition.id());
        }
    }
    let committed = client.committed_offsets(wanted, REQUEST_TIMEOUT)?;
    let mut progress = Vec::new();
    for element in committed.elements() {
        let (low, high) =
            client.fetch_watermarks(element.topic(), element.partition(), REQUEST_TIMEOUT)?;
        progress.push(Progress {
            topic: element.topic().to_owned(),
            partition: element.partition(),
            low,
            high,
            committed: match element.offset() {
                Offset::Offset(offset) => Some(offset),
                _ => None,
            },
        });
    }
    // A partition list alive when its consumer drops makes the drop hang (STACK.md).
    drop(committed);
    Ok(progress)
}

fn record(progress: &[Progress]) {
    for p in progress {
        let next = p.committed.unwrap_or(p.low).max(p.low);
        let labels = [
            ("topic", p.topic.clone()),
            ("partition", p.partition.to_string()),
        ];
        metrics::gauge!("kafka_consumer_group_lag", &labels).set((p.high - next).max(0) as f64);
        metrics::gauge!("kafka_consumer_group_committed_offset", &labels).set(next as f64);
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::consumer::CommitMode;

    use super::*;
    use crate::{EmbeddedKafka, EventProducer, Record};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lag_counts_what_the_group_has_not_committed_on_every_partition() {
        let kafka = EmbeddedKafka::start(&["progress.topic"]).unwrap();
        let settings = KafkaSettings::for_tests(kafka.bootstrap_servers(), "progress-test");
        let producer = EventProducer::new(&settings).unwrap();
        for key in ["a", "a", "a"] {
            producer
                .publish(Record {
                    topic: "progress.topic",
                    key: Some(key.as_bytes()),
                    payload: b"x",
                    headers: rdkafka::message::OwnedHeaders::new(),
                })
                .await
                .unwrap();
        }
        let topics = vec!["progress.topic".to_owned()];
        let client = std::sync::Arc::new(client(&settings).unwrap());
        let lag = |progress: &[Progress]| -> Vec<(i32, i64, Option<i64>)> {
            progress
                .iter()
                .filter(|p| p.high > 0)
                .map(|p| {
                    (
                        p.partition,
                        p.high - p.committed.unwrap_or(p.low),
                        p.committed,
                    )
                })
                .collect()
        };

        let (sampler, wanted) = (client.clone(), topics.clone());
        let before = off_thread("sample", move || sample(&sampler, &wanted))
            .await
            .unwrap();
        assert_eq!(
            before.len(),
            crate::EMBEDDED_PARTITIONS as usize,
            "every partition"
        );
        let [(partition, 3, None)] = lag(&before)[..] else {
            panic!("{:?}", lag(&before));
        };

        // The group commits two of the three: one left.
        let committer = client.clone();
        off_thread("commit", move || {
            let mut offsets = TopicPartitionList::new();
            offsets.add_partition_offset("progress.topic", partition, Offset::Offset(2))?;
            committer.commit(&offsets, CommitMode::Sync)?;
            Ok(())
        })
        .await
        .unwrap();
        let (sampler, wanted) = (client.clone(), topics.clone());
        let after = off_thread("sample", move || sample(&sampler, &wanted))
            .await
            .unwrap();
        assert_eq!(lag(&after), vec![(partition, 1, Some(2))]);
        let _ = std::thread::spawn(move || drop(client));
    }
}
