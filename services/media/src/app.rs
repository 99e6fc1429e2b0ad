//! Builds the media service from its settings: the pool, the object store, the outbox
//! relay, the `media.processed` consumer, the gRPC server and the ops listener, all bound
//! before `build` returns so tests can use port 0.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use platform_kafka::{Event as _, EventConsumer, EventProducer, OutboxRelay};
use platform_proto::events::v1::MediaProcessed;
use platform_runtime::{Readiness, ServiceHost};
use platform_storage::ObjectStorage;

use crate::controller::ProcessedHandler;
use crate::data::MediaStore;
use crate::service::{MediaLibrary, Uploads};
use crate::{Settings, routes};

/// A running media service.
pub struct App {
    host: ServiceHost,
    grpc_addr: SocketAddr,
}

impl App {
    /// The topics this service consumes: their dead letters are counted, and listed and
    /// re-driven by `media dead-letters`.
    pub const CONSUMED_TOPICS: &'static [&'static str] = &[MediaProcessed::TOPIC];

    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let readiness = Readiness::new();
        let db = platform_postgres::connect(&settings.database_url, &settings.database)?;
        let pool_for_metrics = db.clone();
        let storage =
            ObjectStorage::connect(&settings.storage).context("opening the object store")?;
        {
            // Neither an upload nor a download works without both.
            let db = db.clone();
            readiness.add_check("postgres", move || platform_postgres::check(db.clone()));
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
        host.lifecycle()
            .spawn("postgres pool metrics", move |stop| {
                platform_postgres::report_pool_metrics(pool_for_metrics, "media".to_owned(), stop)
            });
        host.lifecycle()
            .spawn("media.processed consumer", move |stop| {
                consumer.run(processed, stop)
            });
        let dead_letters =
            platform_kafka::DeadLetterGauge::new(&settings.kafka, Self::CONSUMED_TOPICS);
        host.lifecycle()
            .spawn("dead-letter gauge", move |stop| dead_letters.run(stop));
        tracing::info!(%grpc_addr, ops_addr = %host.ops_addr(), "media service listening");
        Ok(Self { host, grpc_addr })
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    pub fn ops_addr(&self) -> SocketAddr {
        self.host.ops_addr()
    }

    /// Serves until `signal`, then drains (see `platform_runtime::Lifecycle`).
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        self.host.run_until(signal).await
    }
}
