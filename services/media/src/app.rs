//! Builds the media service from its settings: the pool, the object store, the outbox
//! relay, the `media.processed` consumer, the gRPC server and the ops listener, all bound
//! before `build` returns so tests can use port 0.

use std::sync::Arc;

use anyhow::Context as _;
use platform_kafka::dead_letters::ConsumedTopics as _;
use platform_kafka::{EventConsumer, EventProducer, OutboxRelay};
use platform_proto::events::v1::MediaProcessed;
use platform_runtime::{Readiness, Running, ServiceHost};
use platform_storage::ObjectStorage;

use crate::controller::ProcessedHandler;
use crate::data::MediaStore;
use crate::service::{MediaLibrary, Uploads};
use crate::{Settings, routes};

/// The media service; [`App::build`] starts it.
pub struct App;

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<Running<Self>> {
        let readiness = Readiness::new();
        let db = platform_postgres::connect(&settings.database_url, &settings.database)?;
        let pool_for_metrics = db.clone();
        let storage =
            ObjectStorage::connect(&settings.storage).context("opening the object store")?;
        {
            // Neither an upload nor a download works without both.
            readiness.add_check("postgres", platform_postgres::readiness_check(&db));
            let storage = storage.clone();
            readiness.add_check("object-storage", move || {
                let storage = storage.clone();
                async move { storage.check().await }
            });
        }

        let relay = OutboxRelay::new(
            db.clone(),
            EventProducer::new(&settings.kafka).context("creating the Kafka producer")?,
            &settings.kafka,
        );
        let store = MediaStore::new(db, relay.clone());
        let uploads = Arc::new(Uploads::new(
            store.clone(),
            storage.clone(),
            settings.max_upload_bytes,
            settings.max_pending_uploads,
        ));
        let library = Arc::new(MediaLibrary::new(store, storage));
        let consumer = EventConsumer::<MediaProcessed>::new(&settings.kafka)
            .context("creating the Kafka consumer")?;
        let processed = Arc::new(ProcessedHandler::new(library.clone()));

        let host = ServiceHost::start(&settings.runtime, readiness).await?;
        let grpc_addr = routes::grpc_server(uploads, library)
            .start(settings.grpc, &host)
            .await?;
        host.lifecycle()
            .spawn("outbox-relay", move |stop| relay.run(stop));
        platform_postgres::spawn_pool_metrics(host.lifecycle(), &pool_for_metrics, "media");
        host.lifecycle()
            .spawn("media.processed consumer", move |stop| {
                consumer.run(processed, stop)
            });
        platform_kafka::DeadLetterGauge::new(&settings.kafka, Self::CONSUMED_TOPICS)
            .spawn(host.lifecycle());
        tracing::info!(%grpc_addr, ops_addr = %host.ops_addr(), "media service listening");
        Ok(Running::new(host, Self).with_grpc_addr(grpc_addr))
    }
}
