//! Dead letters can be seen and re-driven: list what a service's consumers moved to
//! `<topic>.dlq`, publish some or all of it back to `<topic>`, and count what still waits.
//!
//! # What "waiting" means
//!
//! Each service has a redrive group, `<KAFKA_CONSUMER_GROUP>.redrive`, that never consumes:
//! it only stores, per dead-letter partition, which records were *handled* (re-driven, or
//! discarded by an operator who decided they never should be). A record is **waiting** until
//! then. The group's committed offset is the first record that may still wait; a record after
//! it that was handled out of order (picked by id while earlier ones still wait) is kept in
//! the commit's metadata as offset ranges (`v1:12-14,17`), so one OffsetCommit records both
//! and they never disagree. Once the records before such a set are handled, the offset moves
//! past them and the set empties. Brokers cap that metadata (4 KB by default), so very many
//! records handled out of order in one partition are refused with an error that says to
//! handle the earliest waiting one first (or use `--all`).
//!
//! Re-driving publishes the record to its original topic with its key, payload and headers,
//! minus the `dlq-*` headers, plus `redriven-from: <dlq topic>/<partition>/<offset>`; only
//! records Kafka acknowledged are then marked. A crash between the two, or two operators at
//! once, can send a record twice: consumers deduplicate by event id, so that is harmless.
//! A re-driven event that fails again is dead-lettered again, as a new record that waits.
//!
//! `kafka_dead_letters_waiting{topic}` (topic = the dead-letter topic) is kept current by a
//! [`DeadLetterGauge`] each consuming service runs; operators use the `dead-letters`
//! subcommand of the service's binary ([`command`]).
//!
//! ```no_run
//! use platform_kafka::dead_letters::{DeadLetters, Selection};
//! # async fn run(settings: &platform_kafka::KafkaSettings) -> anyhow::Result<()> {
//! let dead_letters = DeadLetters::new(settings, &["user.registered"]);
//! for letter in dead_letters.list(None).await? {
//!     println!("{:?} {} waiting={}", letter.event_id, letter.reason, letter.waiting);
//! }
//! let handled = dead_letters.redrive(None, &Selection::All).await?;
//! println!("re-drove {}", handled.handled.len());
//! # Ok(()) }
//! ```

mod args;
pub(crate) mod client;
mod command;
mod gauge;
mod marks;
mod record;
mod redrive;
mod select;
mod table;

pub use command::{
    ConsumedTopics, DEAD_LETTERS_COMMAND, Output, command, dead_letters_command, execute,
};
pub use gauge::DeadLetterGauge;
pub use select::Selection;

use std::time::SystemTime;

use rdkafka::Message as _;
use rdkafka::message::OwnedMessage;

use self::client::{Client, PartitionState, off_thread};
use self::record::letter;
use self::redrive::Action;
use crate::KafkaSettings;
use crate::producer::PublishError;
use crate::wire::dead_letter_topic;

/// The dead letters of a service's topics, and what re-drives them.
///
/// ```no_run
/// # fn run(settings: &platform_kafka::KafkaSettings) {
/// let dead_letters = platform_kafka::DeadLetters::new(settings, &["media.uploaded"]);
/// assert_eq!(dead_letters.group(), format!("{}.redrive", settings.consumer_group));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct DeadLetters {
    settings: KafkaSettings,
    /// The original topics (not their `.dlq`).
    topics: Vec<String>,
}

/// One record of a dead-letter topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The dead-letter topic, `<original_topic>.dlq`.
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Where the event was when it failed (`dlq-original-*`).
    pub original_topic: String,
    pub original_partition: Option<i32>,
    pub original_offset: Option<i64>,
    /// The `event-id` header as sent; not always a valid UUID (that is a reason to be here).
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub key: Option<String>,
    /// `dlq-error`: why the consumer gave up.
    pub reason: String,
    /// `dlq-attempts`: handler runs before it gave up (0: never handled).
    pub attempts: Option<u32>,
    pub dead_lettered_at: Option<SystemTime>,
    /// Not yet re-driven or discarded.
    pub waiting: bool,
}

/// What [`DeadLetters::redrive`] or [`DeadLetters::discard`] did.
#[derive(Debug, Clone, Default)]
pub struct Handled {
    /// Re-driven (or discarded) now, in partition and offset order.
    pub handled: Vec<DeadLetter>,
    /// Selected by id or offset but handled before: not sent again.
    pub already: Vec<DeadLetter>,
}

/// Why dead letters could not be listed or handled.
#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    #[error("{topic:?} is not a topic this service consumes; it consumes {known}")]
    UnknownTopic { topic: String, known: String },
    #[error(
        "an offset names a record of one topic, and this service consumes {known}: name the topic"
    )]
    AmbiguousTopic { known: String },
    #[error("no dead letter matches {}; nothing was sent", .missing.join(", "))]
    NotFound { missing: Vec<String> },
    #[error(
        "partition {partition} of {topic} would keep too many records handled out of order \
         (the earliest still waiting is offset {first_waiting}): handle that one first, or use --all"
    )]
    TooManyMarks {
        topic: String,
        partition: i32,
        first_waiting: i64,
    },
    #[error("re-drove {sent} of {selected} dead letters; the others still wait")]
    Publish {
        sent: usize,
        selected: usize,
        #[source]
        source: PublishError,
    },
    #[error(transparent)]
    Kafka(#[from] anyhow::Error),
}

impl DeadLetterError {
    /// Whether the caller asked for something that cannot be (a usage error, exit status 2).
    ///
    /// ```
    /// use platform_kafka::DeadLetterError;
    /// let error = DeadLetterError::UnknownTopic { topic: "x".into(), known: "user.registered".into() };
    /// assert!(error.is_usage());
    /// ```
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::UnknownTopic { .. } | Self::AmbiguousTopic { .. }
        )
    }
}

/// A dead-letter topic as read: its partitions and its records, each with its letter.
struct Scan {
    topic: String,
    original: String,
    partitions: Vec<PartitionState>,
    letters: Vec<(DeadLetter, OwnedMessage)>,
}

impl DeadLetters {
    /// The dead letters of `topics` (the topics the service consumes), read and marked with
    /// `settings` (brokers, and the consumer group the redrive group is named after).
    pub fn new(settings: &KafkaSettings, topics: &[&str]) -> Self {
        Self {
            settings: settings.clone(),
            topics: topics.iter().map(|&t| t.to_owned()).collect(),
        }
    }

    /// The redrive group: `<consumer group>.redrive`.
    pub fn group(&self) -> String {
        format!("{}.redrive", self.settings.consumer_group)
    }

    /// Every record of the dead-letter topic of `topic` (an original or a `.dlq` name), or of
    /// all the service's topics, waiting or not, in partition and offset order.
    ///
    /// ```no_run
    /// # async fn run(dead_letters: platform_kafka::DeadLetters) -> anyhow::Result<()> {
    /// let waiting = dead_letters.list(Some("user.registered")).await?.into_iter().filter(|l| l.waiting);
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, topic: Option<&str>) -> Result<Vec<DeadLetter>, DeadLetterError> {
        let mut letters = Vec::new();
        for topic in self.resolve(topic)? {
            let scan = self.scan(topic).await?;
            letters.extend(scan.letters.into_iter().map(|(letter, _)| letter));
        }
        Ok(letters)
    }

    /// Re-publishes the waiting dead letters `which` selects to their original topic and
    /// marks them handled. Fails before sending anything if an id or offset matches nothing.
    ///
    /// ```no_run
    /// use platform_kafka::Selection;
    /// # async fn run(dead_letters: platform_kafka::DeadLetters, id: uuid::Uuid) -> anyhow::Result<()> {
    /// let handled = dead_letters.redrive(None, &Selection::Ids(vec![id])).await?;
    /// assert!(handled.handled.len() + handled.already.len() >= 1);
    /// # Ok(()) }
    /// ```
    pub async fn redrive(
        &self,
        topic: Option<&str>,
        which: &Selection,
    ) -> Result<Handled, DeadLetterError> {
        self.handle(topic, which, Action::Redrive).await
    }

    /// Marks the waiting dead letters `which` selects handled without sending them: for
    /// events that can never succeed, so they stop counting as waiting. They stay listed.
    ///
    /// ```no_run
    /// use platform_kafka::Selection;
    /// # async fn run(dead_letters: platform_kafka::DeadLetters) -> anyhow::Result<()> {
    /// dead_letters.discard(Some("user.registered"), &Selection::Offsets(vec![(1, 42)])).await?;
    /// # Ok(()) }
    /// ```
    pub async fn discard(
        &self,
        topic: Option<&str>,
        which: &Selection,
    ) -> Result<Handled, DeadLetterError> {
        self.handle(topic, which, Action::Discard).await
    }

    /// How many records wait in each dead-letter topic, from watermarks and the redrive
    /// group's commits (no record is read).
    ///
    /// ```no_run
    /// # async fn run(dead_letters: platform_kafka::DeadLetters) -> anyhow::Result<()> {
    /// for (topic, waiting) in dead_letters.waiting().await? {
    ///     println!("{topic}: {waiting} waiting");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn waiting(&self) -> Result<Vec<(String, u64)>, DeadLetterError> {
        let topics: Vec<String> = self.topics.iter().map(|t| dead_letter_topic(t)).collect();
        let counts = self.with_client("counting dead letters", move |client| {
            topics
                .into_iter()
                .map(|topic| {
                    let state = client.state(&topic)?;
                    let waiting = state.iter().map(|p| p.marks.waiting(p.high)).sum();
                    Ok((topic, waiting))
                })
                .collect::<anyhow::Result<Vec<_>>>()
        });
        Ok(counts.await?)
    }

    /// The original topics `topic` names: itself (or the topic whose `.dlq` it is), or all.
    fn resolve(&self, topic: Option<&str>) -> Result<Vec<&str>, DeadLetterError> {
        let Some(topic) = topic else {
            return Ok(self.topics.iter().map(String::as_str).collect());
        };
        let original = topic.strip_suffix(".dlq").unwrap_or(topic);
        match self.topics.iter().find(|t| *t == original) {
            Some(t) => Ok(vec![t.as_str()]),
            None => Err(DeadLetterError::UnknownTopic {
                topic: topic.to_owned(),
                known: self.topics.join(", "),
            }),
        }
    }

    /// Reads the dead-letter topic of `original` and the redrive group's marks for it.
    async fn scan(&self, original: &str) -> Result<Scan, DeadLetterError> {
        let topic = dead_letter_topic(original);
        let original = original.to_owned();
        let scan = self.with_client("reading dead letters", move |client| {
            let partitions = client.state(&topic)?;
            let mut messages = client.read(&topic, &partitions)?;
            messages.sort_by_key(|m| (m.partition(), m.offset()));
            let letters = messages
                .into_iter()
                .map(|message| {
                    let waiting = partitions
                        .iter()
                        .find(|p| p.partition == message.partition())
                        .is_some_and(|p| p.marks.is_waiting(message.offset()));
                    (letter(&message, &original, waiting), message)
                })
                .collect();
            Ok(Scan {
                topic,
                original,
                partitions,
                letters,
            })
        });
        Ok(scan.await?)
    }

    /// Runs `work` with a client of the redrive group, off the async runtime ([`off_thread`]):
    /// every librdkafka call of a dead-letter command goes through here.
    fn with_client<T, F>(
        &self,
        what: &'static str,
        work: F,
    ) -> impl Future<Output = anyhow::Result<T>>
    where
        T: Send + 'static,
        F: FnOnce(Client) -> anyhow::Result<T> + Send + 'static,
    {
        let (settings, group) = (self.settings.clone(), self.group());
        off_thread(what, move || work(Client::new(&settings, &group)?))
    }
}
