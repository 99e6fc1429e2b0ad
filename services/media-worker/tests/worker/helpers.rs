//! The upstream: an embedded broker, a store in a fresh directory, the worker on port 0, and
//! helpers to upload an original and read what the worker published.

use std::path::PathBuf;

use media_worker::{App, Settings};
use platform_kafka::{EmbeddedKafka, Event as _, EventProducer, KafkaSettings, wire};
use platform_proto::events::v1::{MediaProcessed, MediaUploaded, media_processed};
use platform_storage::{ObjectStorage, StorageSettings};
use platform_testkit::{decode, event_id, header, key, unique, until_some};
use rdkafka::message::OwnedMessage;
use uuid::Uuid;

/// What the worker runs against: a broker with both topics and a store in a temporary
/// directory, removed on drop.
pub struct TestUpstream {
    pub kafka: EmbeddedKafka,
    pub storage: ObjectStorage,
    producer: EventProducer,
    root: PathBuf,
}

/// A worker started by [`TestUpstream::spawn_worker`].
pub struct TestWorker {
    pub ops: std::net::SocketAddr,
}

/// An original in storage and the `media.uploaded` event announcing it.
pub struct Upload {
    pub event_id: Uuid,
    pub media_id: String,
    pub owner_id: String,
}

/// A record of `media.processed`, decoded.
#[derive(Debug)]
pub struct Published {
    pub event_id: Uuid,
    pub event_type: String,
    pub key: String,
    pub event: MediaProcessed,
}

impl Published {
    pub fn outcome(&self) -> &media_processed::Outcome {
        self.event.outcome.as_ref().expect("every outcome is set")
    }
}

/// Starts the broker and the store, without a worker.
pub fn spawn_upstream() -> TestUpstream {
    TestUpstream::start()
}

impl TestUpstream {
    fn start() -> Self {
        let kafka = EmbeddedKafka::start(platform_kafka::events::TOPICS)
            .expect("the embedded broker starts");
        let root = std::env::temp_dir().join(unique("media-worker-test-"));
        let storage =
            ObjectStorage::connect(&StorageSettings::local(&root)).expect("the local store opens");
        let producer = EventProducer::new(&KafkaSettings::for_tests(
            kafka.bootstrap_servers(),
            "test-media-service",
        ))
        .expect("the producer is created");
        Self {
            kafka,
            storage,
            producer,
            root,
        }
    }

    /// The worker's test settings against this broker and store.
    pub fn settings(&self) -> Settings {
        Settings::for_tests(self.kafka.bootstrap_servers(), &self.root)
    }

    pub async fn spawn_worker(&self) -> TestWorker {
        spawn_worker_with(self.settings()).await
    }

    /// Stores `bytes` as a new original and publishes its `media.uploaded`, as the media
    /// service does.
    pub async fn upload(&self, bytes: &[u8], content_type: &str) -> Upload {
        let upload = self.announce(content_type).await;
        self.storage
            .put(&original_key(&upload.media_id), bytes.to_vec().into())
            .await
            .expect("the original is stored");
        upload
    }

    /// Publishes a `media.uploaded` for an original that was never stored.
    pub async fn announce(&self, content_type: &str) -> Upload {
        let upload = Upload {
            event_id: Uuid::now_v7(),
            media_id: Uuid::now_v7().to_string(),
            owner_id: format!("eu_{}", Uuid::now_v7().simple()),
        };
        self.publish_uploaded(&upload, content_type).await;
        upload
    }

    /// Publishes `upload`'s `media.uploaded` (again, for a replay: same event id).
    pub async fn publish_uploaded(&self, upload: &Upload, content_type: &str) {
        let uploaded = MediaUploaded {
            media_id: upload.media_id.clone(),
            owner_id: upload.owner_id.clone(),
            content_type: content_type.to_owned(),
            object_key: original_key(&upload.media_id),
            ..MediaUploaded::default()
        };
        self.producer
            .publish_event(upload.event_id, &uploaded)
            .await
            .expect("the broker takes the upload");
    }

    /// Every `media.processed` record about `media_id` so far.
    pub async fn published(&self, media_id: &str) -> Vec<Published> {
        self.kafka
            .records(MediaProcessed::TOPIC)
            .await
            .expect("the topic is readable")
            .iter()
            .map(decode_published)
            .filter(|published| published.event.media_id == media_id)
            .collect()
    }

    /// Waits for the worker's outcome for `media_id`; fails the test after [`PATIENCE`].
    pub async fn outcome_of(&self, media_id: &str) -> Published {
        until_some(&format!("media.processed for {media_id}"), || async {
            self.published(media_id).await.into_iter().next()
        })
        .await
    }

    /// The dead-lettered `media.uploaded` records of the event `event_id`.
    pub async fn dead_letters(&self, event_id: Uuid) -> Vec<OwnedMessage> {
        self.kafka
            .records(&wire::dead_letter_topic(MediaUploaded::TOPIC))
            .await
            .expect("the topic is readable")
            .into_iter()
            .filter(|message| platform_testkit::event_id(message) == Some(event_id))
            .collect()
    }
}

impl Drop for TestUpstream {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Starts the worker with `settings` on the test's runtime, running until the test ends.
pub async fn spawn_worker_with(settings: Settings) -> TestWorker {
    let app = App::build(settings).await.expect("the worker starts");
    let worker = TestWorker {
        ops: app.ops_addr(),
    };
    tokio::spawn(app.run_until(std::future::pending()));
    worker
}

/// Where [`TestUpstream::upload`] stores an original, as the media service names it.
pub fn original_key(media_id: &str) -> String {
    format!("originals/{media_id}")
}

fn decode_published(message: &OwnedMessage) -> Published {
    Published {
        event_id: event_id(message).expect("every event has an event-id"),
        event_type: header(message, wire::EVENT_TYPE).expect("every event has an event-type"),
        key: key(message),
        event: decode(message),
    }
}
