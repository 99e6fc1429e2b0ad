//! `spawn_kafka()`: an embedded broker, a fresh database with the outbox tables, tracing with
//! OpenTelemetry (so trace context is real), and helpers to read a topic.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use platform_kafka::dead_letters::DeadLetters;
use platform_kafka::outbox::enqueue;
use platform_kafka::{
    Delivery, EmbeddedKafka, Event, EventConsumer, EventHandler, EventProducer, HandlerError,
    KafkaSettings, OutboxRelay,
};
use platform_telemetry::{LogFormat, SdkTracerProvider, TelemetryGuard, TelemetrySettings};
use platform_testkit::{TestDatabase, eventually, unique};
use rdkafka::message::OwnedMessage;
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./sql");

pub const TOPIC: &str = Note::TOPIC;

/// A handler that reports each event it is given and answers them all alike:
/// [`applying`](Self::applying) everything (the fix is deployed) or
/// [`failing`](Self::failing) everything, as a handler whose database is down would.
pub struct Reporting {
    calls: mpsc::UnboundedSender<Delivery<Note>>,
    fails: bool,
}

impl Reporting {
    pub fn applying(calls: mpsc::UnboundedSender<Delivery<Note>>) -> Self {
        Self {
            calls,
            fails: false,
        }
    }

    pub fn failing(calls: mpsc::UnboundedSender<Delivery<Note>>) -> Self {
        Self { calls, fails: true }
    }
}

impl EventHandler for Reporting {
    type Event = Note;

    async fn handle(&self, event: &Delivery<Note>) -> Result<(), HandlerError> {
        let _ = self.calls.send(event.clone());
        if self.fails {
            return Err(anyhow::anyhow!("the database is down").into());
        }
        Ok(())
    }
}

/// The event these tests publish and consume: a key and some bytes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Note {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(bytes = "vec", tag = "2")]
    pub body: Vec<u8>,
}

impl Event for Note {
    const TOPIC: &'static str = "test.notes";
    const TYPE: &'static str = "test.note.v1";

    fn key(&self) -> &str {
        &self.key
    }
}

pub struct TestKafka {
    pub settings: KafkaSettings,
    pub pool: PgPool,
    pub _db: TestDatabase,
    pub kafka: EmbeddedKafka,
}

pub async fn spawn_kafka() -> TestKafka {
    init_telemetry();
    let kafka = EmbeddedKafka::start(&[TOPIC]).expect("the embedded broker starts");
    let db = TestDatabase::create(&MIGRATOR).await;
    let pool = PgPool::connect(db.url())
        .await
        .expect("the test database accepts connections");
    let settings = KafkaSettings::for_tests(kafka.bootstrap_servers(), &unique("test-"));
    TestKafka {
        settings,
        pool,
        _db: db,
        kafka,
    }
}

/// One tracing subscriber per test process, with an OpenTelemetry layer (no exporter) so
/// spans have real trace ids and the W3C propagator is installed.
fn init_telemetry() {
    static GUARD: OnceLock<TelemetryGuard> = OnceLock::new();
    GUARD.get_or_init(|| {
        let settings = TelemetrySettings {
            service_name: "kafka-tests".to_owned(),
            log_format: LogFormat::Pretty,
            log_filter: std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
            otlp_endpoint: None,
        };
        platform_telemetry::install(&settings, Some(SdkTracerProvider::builder().build()))
            .expect("telemetry installs once per process")
    });
}

impl TestKafka {
    pub fn relay(&self) -> OutboxRelay {
        let producer = EventProducer::new(&self.settings).expect("the producer is created");
        OutboxRelay::new(self.pool.clone(), producer, &self.settings)
    }

    /// Enqueues an event for `key` in its own committed transaction.
    pub async fn enqueue_committed(&self, key: &str, body: &[u8]) -> Uuid {
        let mut tx = self.pool.begin().await.unwrap();
        let id = enqueue(&mut tx, &event(key, body)).await.unwrap();
        tx.commit().await.unwrap();
        id
    }

    pub async fn pending(&self) -> i64 {
        sqlx::query_scalar("select count(*) from outbox where sent_at is null")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Waits until the outbox has no pending rows.
    pub async fn all_sent(&self) {
        eventually("every outbox row to be sent", || async {
            self.pending().await == 0
        })
        .await;
    }

    /// Starts a relay and waits until it has sent every committed outbox row; returns it (to
    /// wake) and what stops it.
    pub async fn relaying(&self) -> (OutboxRelay, Running) {
        let relay = self.relay();
        let relaying = spawn_until_stopped({
            let relay = relay.clone();
            |stop| relay.run(stop)
        });
        self.all_sent().await;
        (relay, relaying)
    }

    /// Relays every committed outbox row to the broker, then stops the relay.
    pub async fn relay_all(&self) {
        let (_, relaying) = self.relaying().await;
        relaying.stop().await;
    }

    /// The dead letters of [`TOPIC`], as the operator command reads them.
    pub fn dead_letters(&self) -> DeadLetters {
        DeadLetters::new(&self.settings, &[TOPIC])
    }

    /// Runs a consumer with `handler` in this harness's group until stopped.
    pub fn consume<H: EventHandler<Event = Note>>(&self, handler: H) -> Running {
        consume_with(&self.settings, handler)
    }

    /// Every record on `topic`, read from the beginning up to the current end.
    pub async fn read_topic(&self, topic: &str) -> Vec<OwnedMessage> {
        self.kafka
            .records(topic)
            .await
            .expect("the topic is readable")
    }
}

pub fn event(key: &str, body: &[u8]) -> Note {
    Note {
        key: key.to_owned(),
        body: body.to_vec(),
    }
}

/// The body of the [`Note`] in `message`.
pub fn body(message: &OwnedMessage) -> Vec<u8> {
    platform_testkit::decode::<Note>(message).body
}

/// Runs a consumer with `settings` and `handler` until stopped.
pub fn consume_with<H: EventHandler<Event = Note>>(
    settings: &KafkaSettings,
    handler: H,
) -> Running {
    let consumer = EventConsumer::new(settings).expect("the consumer is created");
    let handler = Arc::new(handler);
    spawn_until_stopped(move |stop| consumer.run(handler, stop))
}

/// Starts `run` as a task and returns what stops it: cancel, then await (bounded).
pub fn spawn_until_stopped<F, Fut>(run: F) -> Running
where
    F: FnOnce(CancellationToken) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let stop = CancellationToken::new();
    let task = tokio::spawn(run(stop.clone()));
    Running { stop, task }
}

pub struct Running {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Stops the task and checks that it ended cleanly, promptly.
    pub async fn stop(self) {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the task stops within 10s of being told to")
            .expect("the task did not panic")
            .expect("the task ended without an error");
    }
}

/// The event ids of `records`, in order; every published record has one.
pub fn ids_of<I>(records: I) -> Vec<Uuid>
where
    I: IntoIterator,
    I::Item: std::borrow::Borrow<OwnedMessage>,
{
    records
        .into_iter()
        .map(|record| {
            platform_testkit::event_id(std::borrow::Borrow::borrow(&record))
                .expect("every published record has an id")
        })
        .collect()
}
