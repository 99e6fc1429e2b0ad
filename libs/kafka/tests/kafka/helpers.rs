//! The harness: an embedded broker, a fresh database with the outbox tables, tracing with
//! OpenTelemetry (so trace context is real), and helpers to read a topic and wait.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use platform_kafka::outbox::enqueue;
use platform_kafka::{EmbeddedKafka, Event, EventProducer, KafkaSettings, OutboxRelay};
use platform_telemetry::{LogFormat, SdkTracerProvider, TelemetryGuard, TelemetrySettings};
use platform_testkit::{TestDatabase, unique};
use rdkafka::Message as _;
use rdkafka::message::{Headers as _, OwnedMessage};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./sql");

pub const TOPIC: &str = Note::TOPIC;

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

/// How long any awaited condition may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub struct Harness {
    pub settings: KafkaSettings,
    pub pool: PgPool,
    pub _db: TestDatabase,
    pub kafka: EmbeddedKafka,
}

pub async fn harness() -> Harness {
    init_telemetry();
    let kafka = EmbeddedKafka::start(&[TOPIC]).expect("the embedded broker starts");
    let db = TestDatabase::create(&MIGRATOR).await;
    let pool = PgPool::connect(db.url())
        .await
        .expect("the test database accepts connections");
    let settings = KafkaSettings::for_tests(kafka.bootstrap_servers(), &unique("test-"));
    Harness {
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

impl Harness {
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
    <Note as prost::Message>::decode(message.payload().unwrap_or_default())
        .expect("the record is a Note")
        .body
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

/// Polls `condition` until it holds; fails the test after [`PATIENCE`].
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Awaits `future`, failing the test after [`PATIENCE`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// The value of header `name`, as text.
pub fn header(message: &OwnedMessage, name: &str) -> Option<String> {
    message
        .headers()?
        .iter()
        .find(|h| h.key == name)
        .and_then(|h| Some(String::from_utf8_lossy(h.value?).into_owned()))
}

pub fn event_id(message: &OwnedMessage) -> Uuid {
    header(message, "event-id")
        .and_then(|id| id.parse().ok())
        .expect("every published record has an event-id")
}
