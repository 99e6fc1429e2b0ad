//! The librdkafka calls behind dead letters: partitions, watermarks, the redrive group's
//! commits, reading a dead-letter topic. All of them block, so they run through
//! [`off_thread`], never on the async runtime.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::error::KafkaError;
use rdkafka::message::OwnedMessage;
use rdkafka::{ClientConfig, Message as _, Offset, TopicPartitionList};

use super::marks::Marks;
use crate::KafkaSettings;

/// The deadline of one request to the cluster (metadata, watermarks, offsets).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long reading a whole dead-letter topic may take.
const READ_DEADLINE: Duration = Duration::from_secs(60);
/// How long one [`off_thread`] job may take before the caller stops waiting for it.
pub(super) const JOB_DEADLINE: Duration = Duration::from_secs(90);

/// One partition of a dead-letter topic: where it starts and ends now, and what was handled.
#[derive(Debug, Clone)]
pub(super) struct PartitionState {
    pub(super) partition: i32,
    pub(super) low: i64,
    pub(super) high: i64,
    pub(super) marks: Marks,
}

/// A client of the redrive group: it never joins the group (no subscription), it only reads
/// and commits the group's offsets, so it never waits for a rebalance and never takes
/// partitions from anyone.
pub(super) struct Client {
    consumer: BaseConsumer,
}

impl Client {
    pub(super) fn new(settings: &KafkaSettings, group: &str) -> anyhow::Result<Self> {
        let consumer = ClientConfig::new()
            .set("bootstrap.servers", settings.bootstrap_servers()?)
            .set("client.id", format!("{}-dead-letters", settings.client_id))
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "true")
            .set("auto.offset.reset", "earliest")
            .create()
            .context("creating the Kafka client for dead letters")?;
        Ok(Self { consumer })
    }

    /// Every partition of `topic`, with its watermarks and the redrive group's marks.
    pub(super) fn state(&self, topic: &str) -> anyhow::Result<Vec<PartitionState>> {
        let metadata = self
            .consumer
            .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
            .with_context(|| format!("reading the metadata of {topic}"))?;
        let partitions: Vec<i32> = match metadata.topics().first() {
            Some(t) if t.error().is_none() && !t.partitions().is_empty() => {
                t.partitions().iter().map(|p| p.id()).collect()
            }
            _ => anyhow::bail!("the dead-letter topic {topic} does not exist"),
        };
        let commits = self.committed(topic, &partitions)?;
        partitions
            .into_iter()
            .map(|partition| {
                let (low, high) = self
                    .consumer
                    .fetch_watermarks(topic, partition, REQUEST_TIMEOUT)
                    .with_context(|| format!("reading the watermarks of {topic}/{partition}"))?;
                let (committed, metadata) = commits.get(&partition).cloned().unwrap_or_default();
                Ok(PartitionState {
                    partition,
                    low,
                    high,
                    marks: Marks::from_commit(committed, &metadata, low),
                })
            })
            .collect()
    }

    /// The group's committed offset and metadata per partition (`None`: never committed).
    fn committed(
        &self,
        topic: &str,
        partitions: &[i32],
    ) -> anyhow::Result<HashMap<i32, (Option<i64>, String)>> {
        let mut wanted = TopicPartitionList::with_capacity(partitions.len());
        for &partition in partitions {
            wanted.add_partition(topic, partition);
        }
        let committed = self
            .consumer
            .committed_offsets(wanted, REQUEST_TIMEOUT)
            .with_context(|| format!("reading the redrive group's offsets of {topic}"))?;
        let mut commits = HashMap::new();
        for element in committed.elements() {
            element.error().with_context(|| {
                format!("reading the offset of {topic}/{}", element.partition())
            })?;
            let offset = match element.offset() {
                Offset::Offset(offset) => Some(offset),
                _ => None,
            };
            commits.insert(element.partition(), (offset, element.metadata().to_owned()));
        }
        // A partition list alive when its consumer drops makes the drop hang (STACK.md).
        drop(committed);
        Ok(commits)
    }

    /// Every record of `topic` between each partition's `low` and `high` in `state`.
    pub(super) fn read(
        &self,
        topic: &str,
        state: &[PartitionState],
    ) -> anyhow::Result<Vec<OwnedMessage>> {
        let mut ends: HashMap<i32, i64> = HashMap::new();
        let mut assignment = TopicPartitionList::new();
        for p in state.iter().filter(|p| p.high > p.low) {
            ends.insert(p.partition, p.high);
            assignment.add_partition_offset(topic, p.partition, Offset::Offset(p.low))?;
        }
        if ends.is_empty() {
            return Ok(Vec::new());
        }
        self.consumer.assign(&assignment)?;
        drop(assignment);
        let deadline = Instant::now() + READ_DEADLINE;
        let mut records = Vec::new();
        while !ends.is_empty() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "reading {topic} took more than {READ_DEADLINE:?}"
            );
            match self.consumer.poll(Duration::from_millis(100)) {
                None => {}
                Some(Err(KafkaError::PartitionEOF(partition))) => {
                    ends.remove(&partition);
                }
                Some(Err(e)) => return Err(e).with_context(|| format!("reading {topic}")),
                Some(Ok(message)) => {
                    let Some(&end) = ends.get(&message.partition()) else {
                        continue;
                    };
                    // Records that arrived after `state` was taken belong to the next run.
                    if message.offset() < end {
                        records.push(message.detach());
                    }
                    if message.offset() + 1 >= end {
                        ends.remove(&message.partition());
                    }
                }
            }
        }
        Ok(records)
    }

    /// Commits `marks` (partition → marks) of `topic` for the redrive group, synchronously.
    pub(super) fn commit(&self, topic: &str, marks: &[(i32, Marks)]) -> anyhow::Result<()> {
        let mut offsets = TopicPartitionList::with_capacity(marks.len());
        for (partition, marks) in marks {
            let mut element = offsets.add_partition(topic, *partition);
            element.set_offset(Offset::Offset(marks.next()))?;
            let metadata = marks.metadata();
            if !metadata.is_empty() {
                element.set_metadata(metadata);
            }
        }
        self.consumer
            .commit(&offsets, CommitMode::Sync)
            .with_context(|| format!("committing the redrive group's offsets of {topic}"))
    }
}

/// Runs `work` on a thread of its own and waits for it at most [`JOB_DEADLINE`]. A detached
/// thread, not `spawn_blocking`: a librdkafka call or drop that hangs then holds neither the
/// caller nor the runtime's shutdown.
pub(crate) fn off_thread<T, F>(
    what: &'static str,
    work: F,
) -> impl Future<Output = anyhow::Result<T>>
where
    T: Send + 'static,
    F: FnOnce() -> anyhow::Result<T> + Send + 'static,
{
    let (done, outcome) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("kafka-dead-letters".to_owned())
        .spawn(move || {
            let _ = done.send(work());
        });
    async move {
        spawned.context("starting a thread for Kafka")?;
        match tokio::time::timeout(JOB_DEADLINE, outcome).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => anyhow::bail!("{what} failed: its thread panicked"),
            Err(_) => anyhow::bail!("{what} did not finish within {JOB_DEADLINE:?}"),
        }
    }
}
