//! `spawn_media()`: the media service over its own database, broker and object store, and
//! what tests need around it: an upload call, a fake worker, a topic reader, polling (`platform_testkit`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use media_service::data::MIGRATOR;
use platform_grpc::{GrpcChannel, GrpcClientSettings};
use platform_kafka::{EmbeddedKafka, EventProducer, KafkaSettings};
use platform_proto::events::v1::MediaProcessed;
use platform_proto::media::v1::media_service_client::MediaServiceClient;
use platform_proto::media::v1::{
    GetContentRequest, GetMediaRequest, Media, UploadComplete, UploadMetadata, UploadRequest,
    Variant, content_chunk, upload_request,
};
use platform_storage::{ObjectStorage, StorageSettings};
use platform_testkit::{TestDatabase, unique};
use rdkafka::message::OwnedMessage;
use sqlx::PgPool;
use uuid::Uuid;

/// The first bytes of a PNG; the service checks magic numbers, not whole images.
pub const PNG_HEAD: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

pub struct TestMedia {
    pub grpc: SocketAddr,
    pub ops: SocketAddr,
    pub db: TestDatabase,
    pub kafka: EmbeddedKafka,
    /// The object store's directory, removed when the test ends.
    pub storage_root: PathBuf,
}

pub async fn spawn_media_with(tweak: impl FnOnce(&mut media_service::Settings)) -> TestMedia {
    let db = TestDatabase::create(&MIGRATOR).await;
    let kafka =
        EmbeddedKafka::start(platform_kafka::events::TOPICS).expect("the embedded broker starts");
    let storage_root = std::env::temp_dir().join(unique("media-test-"));
    let mut settings =
        media_service::Settings::for_tests(db.url(), kafka.bootstrap_servers(), &storage_root);
    tweak(&mut settings);
    let app = media_service::App::build(settings)
        .await
        .expect("media starts");
    let (grpc, ops) = (app.grpc_addr(), app.ops_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    TestMedia {
        grpc,
        ops,
        db,
        kafka,
        storage_root,
    }
}

pub async fn spawn_media() -> TestMedia {
    spawn_media_with(|_| {}).await
}

impl Drop for TestMedia {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.storage_root);
    }
}

/// A PNG-looking body of `len` bytes (`len` ≥ the PNG head), varied so that misplaced
/// chunks would show.
pub fn png(len: usize) -> Vec<u8> {
    let mut body = PNG_HEAD.to_vec();
    body.extend((0..len - PNG_HEAD.len()).map(|i| (i % 251) as u8));
    body
}

pub fn metadata(owner_id: &str, content_type: &str) -> UploadRequest {
    UploadRequest {
        part: Some(upload_request::Part::Metadata(UploadMetadata {
            owner_id: owner_id.to_owned(),
            content_type: content_type.to_owned(),
        })),
    }
}

pub fn chunk(bytes: &[u8]) -> UploadRequest {
    UploadRequest {
        part: Some(upload_request::Part::Chunk(bytes.to_vec())),
    }
}

/// The message that ends an upload of `size_bytes` bytes.
pub fn complete(size_bytes: usize) -> UploadRequest {
    UploadRequest {
        part: Some(upload_request::Part::Complete(UploadComplete {
            size_bytes: size_bytes as u64,
        })),
    }
}

/// The metadata, then `body` in chunks of `chunk_len`, then the completion.
pub fn upload_of(
    owner_id: &str,
    content_type: &str,
    body: &[u8],
    chunk_len: usize,
) -> Vec<UploadRequest> {
    std::iter::once(metadata(owner_id, content_type))
        .chain(body.chunks(chunk_len).map(chunk))
        .chain(std::iter::once(complete(body.len())))
        .collect()
}

impl TestMedia {
    pub fn client(&self) -> MediaServiceClient<GrpcChannel> {
        let mut settings = GrpcClientSettings::for_tests("media", self.grpc);
        settings.request_timeout = Duration::from_secs(10);
        MediaServiceClient::new(platform_grpc::connect(&settings).unwrap())
    }

    pub async fn upload(&self, messages: Vec<UploadRequest>) -> Result<Media, tonic::Status> {
        self.client()
            .upload(futures::stream::iter(messages))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Uploads a valid PNG of `len` bytes for `owner_id`.
    pub async fn upload_png(&self, owner_id: &str, len: usize) -> Media {
        self.upload(upload_of(owner_id, "image/png", &png(len), 64 * 1024))
            .await
            .expect("the upload is accepted")
    }

    pub async fn get_media(&self, id: &str) -> Result<Media, tonic::Status> {
        self.client()
            .get_media(GetMediaRequest {
                media_id: id.to_owned(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// The variant's description and its bytes, as `GetContent` streams them.
    pub async fn get_content(
        &self,
        id: &str,
        variant: &str,
    ) -> Result<(Variant, Vec<u8>), tonic::Status> {
        let mut stream = self
            .client()
            .get_content(GetContentRequest {
                media_id: id.to_owned(),
                variant: variant.to_owned(),
            })
            .await?
            .into_inner();
        let Some(content_chunk::Part::Variant(description)) =
            stream.message().await?.and_then(|first| first.part)
        else {
            panic!("the first message describes the variant");
        };
        let mut bytes = Vec::new();
        while let Some(message) = stream.message().await? {
            match message.part {
                Some(content_chunk::Part::Chunk(chunk)) => bytes.extend(chunk),
                other => panic!("only chunks follow the description, got {other:?}"),
            }
        }
        Ok((description, bytes))
    }

    pub async fn pool(&self) -> PgPool {
        PgPool::connect(self.db.url()).await.unwrap()
    }

    /// How many media are recorded.
    pub async fn media_rows(&self) -> i64 {
        sqlx::query_scalar("select count(*) from media")
            .fetch_one(&self.pool().await)
            .await
            .unwrap()
    }

    /// The object store as the worker sees it: the same directory.
    pub fn storage(&self) -> ObjectStorage {
        ObjectStorage::connect(&StorageSettings::local(&self.storage_root)).unwrap()
    }

    /// Every file under the object store's directory, staging files included.
    pub fn stored_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, found);
                } else {
                    found.push(path);
                }
            }
        }
        let mut found = Vec::new();
        walk(&self.storage_root, &mut found);
        found
    }

    /// Publishes `media.processed` as the worker does.
    pub async fn publish_processed(&self, event_id: Uuid, processed: &MediaProcessed) {
        let settings = KafkaSettings::for_tests(self.kafka.bootstrap_servers(), "test-worker");
        EventProducer::new(&settings)
            .unwrap()
            .publish_event(event_id, processed)
            .await
            .expect("the broker takes the event");
    }

    /// Whether `consumer` has recorded `event_id` as handled.
    pub async fn processed(&self, event_id: Uuid) -> bool {
        sqlx::query_scalar("select exists (select 1 from processed_events where event_id = $1)")
            .bind(event_id)
            .fetch_one(&self.pool().await)
            .await
            .unwrap()
    }

    /// Every record on `topic`, read from the beginning up to the current end.
    pub async fn read_topic(&self, topic: &str) -> Vec<OwnedMessage> {
        self.kafka
            .records(topic)
            .await
            .expect("the topic is readable")
    }
}
