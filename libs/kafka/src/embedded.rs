//! An in-process Kafka-protocol broker for tests and the native run.

use std::sync::mpsc;
use std::thread::JoinHandle;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::KafkaError;
use rdkafka::message::OwnedMessage;
use rdkafka::mocking::MockCluster;
use rdkafka::{ClientConfig, Message as _, Offset, TopicPartitionList};

use crate::wire::dead_letter_topic;

/// Partitions of every topic the embedded broker creates.
pub const EMBEDDED_PARTITIONS: i32 = 3;

/// librdkafka's mock broker (`rdkafka::mocking::MockCluster`), listening on a loopback port.
///
/// What it is for: tests, and running the platform on one machine without a Kafka cluster
/// (the native run starts one when `KAFKA_BROKERS` is unset). It speaks the real protocol over
/// real TCP, so producers, consumer groups with commits and the idempotent producer behave as
/// against a broker, and other processes (even a Python client) can connect to it.
///
/// What it is not: a Kafka you can keep data in. It keeps nothing on disk, every message is
/// gone when this value is dropped or the process exits, and it is not for production. It has
/// no CreateTopics admin API, so topics are created here, through the mock's own API. A
/// consumer group's first assignment takes about 3 s.
///
/// The mock cluster is not `Send`; it lives on a thread of its own so this handle can be
/// moved into any task.
///
/// ```no_run
/// use platform_kafka::{EmbeddedKafka, KafkaSettings};
/// # fn run(settings: KafkaSettings) -> anyhow::Result<()> {
/// // Every topic of the platform, and each one's dead-letter topic.
/// let kafka = EmbeddedKafka::start(platform_kafka::events::TOPICS)?;
/// let settings = settings.with_brokers(kafka.bootstrap_servers());
/// # Ok(()) }
/// ```
pub struct EmbeddedKafka {
    bootstrap_servers: String,
    commands: Option<mpsc::Sender<Command>>,
    owner: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for EmbeddedKafka {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedKafka")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .finish_non_exhaustive()
    }
}

enum Command {
    CreateTopic {
        name: String,
        partitions: i32,
        done: mpsc::Sender<Result<(), KafkaError>>,
    },
}

impl EmbeddedKafka {
    /// Starts a one-broker cluster with each of `topics` and its dead-letter topic
    /// (`<topic>.dlq`), [`EMBEDDED_PARTITIONS`] partitions each.
    pub fn start(topics: &[&str]) -> anyhow::Result<Self> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (commands, inbox) = mpsc::channel();
        let owner = std::thread::Builder::new()
            .name("embedded-kafka".to_owned())
            .spawn(move || own_cluster(&ready_tx, &inbox))
            .context("starting the embedded Kafka thread")?;
        let bootstrap_servers = ready_rx
            .recv()
            .context("the embedded Kafka thread stopped while starting")?
            .context("creating the embedded Kafka cluster")?;
        let kafka = Self {
            bootstrap_servers,
            commands: Some(commands),
            owner: Some(owner),
        };
        for topic in topics {
            kafka.create_topic(topic, EMBEDDED_PARTITIONS)?;
            if !topic.ends_with(".dlq") {
                kafka.create_topic(&dead_letter_topic(topic), EMBEDDED_PARTITIONS)?;
            }
        }
        tracing::info!(bootstrap_servers = %kafka.bootstrap_servers, ?topics, "embedded Kafka started");
        Ok(kafka)
    }

    /// The `bootstrap.servers` value clients connect with (`127.0.0.1:port`).
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }

    /// Creates a topic (the mock has no admin API for it).
    pub fn create_topic(&self, name: &str, partitions: i32) -> anyhow::Result<()> {
        let (done, outcome) = mpsc::channel();
        let command = Command::CreateTopic {
            name: name.to_owned(),
            partitions,
            done,
        };
        self.commands
            .as_ref()
            .and_then(|commands| commands.send(command).ok())
            .context("the embedded Kafka thread is gone")?;
        outcome
            .recv()
            .context("the embedded Kafka thread is gone")?
            .with_context(|| format!("creating topic {name}"))
    }
}

/// How long [`EmbeddedKafka::records`] may take before it reports the topic unreadable.
const READ_DEADLINE: Duration = Duration::from_secs(30);

impl EmbeddedKafka {
    /// Every record of `topic` so far, partition by partition from the beginning up to the
    /// end each had when called: what a test asserts was published. Read with a plain
    /// assigned consumer (no group, so no wait for an assignment), on a blocking thread.
    ///
    /// ```no_run
    /// # async fn t(kafka: platform_kafka::EmbeddedKafka) -> anyhow::Result<()> {
    /// let dead = kafka.records("user.registered.dlq").await?;
    /// assert!(dead.is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn records(&self, topic: &str) -> anyhow::Result<Vec<OwnedMessage>> {
        let (bootstrap, topic) = (self.bootstrap_servers.clone(), topic.to_owned());
        tokio::task::spawn_blocking(move || read_all(&bootstrap, &topic))
            .await
            .context("the topic reader panicked")?
    }
}

fn read_all(bootstrap: &str, topic: &str) -> anyhow::Result<Vec<OwnedMessage>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set(
            "group.id",
            format!("reader-{}", uuid::Uuid::new_v4().simple()),
        )
        .set("enable.auto.commit", "false")
        .create()
        .context("creating a topic reader")?;
    let metadata = consumer
        .fetch_metadata(Some(topic), READ_DEADLINE)
        .with_context(|| format!("reading the metadata of {topic}"))?;
    let partitions = metadata
        .topics()
        .first()
        .map_or(0, |t| t.partitions().len() as i32);
    let mut ends = Vec::new();
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        let (_, high) = consumer
            .fetch_watermarks(topic, partition, READ_DEADLINE)
            .with_context(|| format!("reading the end of {topic}/{partition}"))?;
        ends.push(high);
        assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    // A partition list alive while the consumer drops makes the drop hang.
    drop(assignment);
    let mut next = vec![0i64; ends.len()];
    let mut records = Vec::new();
    let deadline = Instant::now() + READ_DEADLINE;
    while next.iter().zip(&ends).any(|(next, end)| next < end) {
        anyhow::ensure!(Instant::now() < deadline, "timed out reading {topic}");
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            let message = message.context("reading a record")?.detach();
            next[message.partition() as usize] = message.offset() + 1;
            records.push(message);
        }
    }
    Ok(records)
}

/// Runs on the owner thread: holds the cluster until every command sender is dropped.
fn own_cluster(ready: &mpsc::Sender<Result<String, KafkaError>>, inbox: &mpsc::Receiver<Command>) {
    let cluster = match MockCluster::new(1) {
        Ok(cluster) => cluster,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    if ready.send(Ok(cluster.bootstrap_servers())).is_err() {
        return;
    }
    while let Ok(command) = inbox.recv() {
        match command {
            Command::CreateTopic {
                name,
                partitions,
                done,
            } => {
                let _ = done.send(cluster.create_topic(&name, partitions, 1));
            }
        }
    }
}

impl Drop for EmbeddedKafka {
    fn drop(&mut self) {
        // Closing the channel ends the owner thread, which destroys the cluster.
        drop(self.commands.take());
        if let Some(owner) = self.owner.take()
            && owner.join().is_err()
        {
            tracing::warn!("the embedded Kafka thread panicked");
        }
    }
}
