//! Builds the media worker from its settings: object storage, the CPU pool, the
//! `media.processed` publisher, one `media.uploaded` consumer per pool thread and the ops
//! listener, all started before `build` returns.
//!
//! # Concurrency and backpressure
//!
//! An [`EventConsumer`] handles one message at a time, and a job awaits [`CpuPool::run`] for
//! its CPU work. So the worker runs `threads` consumers in the same consumer group, one per
//! pool thread:
//!
//! - every pool thread has a consumer to feed it, so all cores are used (as long as the topic
//!   has at least `replicas × threads` partitions: a consumer without a partition idles);
//! - at most `threads` jobs exist at once, each holding one message, so the pool's queue
//!   stays empty and nothing piles up in memory;
//! - a consumer whose job is running does not take the next message, so while the pool is
//!   busy the worker stops taking work from Kafka and the backlog waits there, in the
//!   topic, where another replica can take it. (librdkafka fetches a little ahead, but those
//!   are event records of a few hundred bytes, uncommitted; the images stay in storage.)
//!
//! A job's I/O (reading the original, storing variants, publishing) runs on the async runtime
//! and leaves its pool thread idle meanwhile; the images dominate, so one consumer per thread
//! keeps the pool close to busy without ever queueing.
//!
//! Metrics: `media_worker_pool_in_flight` (gauge), `media_worker_jobs_total{outcome}` and
//! `media_worker_job_seconds{outcome}` with `outcome` = `ready` or `failed`, besides the
//! consumer's `kafka_consumer_*`.

use std::sync::Arc;

use anyhow::Context as _;
use platform_cpu_pool::CpuPool;
use platform_kafka::dead_letters::ConsumedTopics as _;
use platform_kafka::{Event as _, EventConsumer, EventProducer};
use platform_proto::events::v1::MediaUploaded;
use platform_runtime::{Readiness, Running, ServiceHost};
use platform_storage::ObjectStorage;

use crate::Settings;
use crate::controller::UploadHandler;
use crate::data::{MediaObjects, ProcessedEvents};
use crate::service::{Jobs, images};

/// The media worker's own part of its running service ([`App::build`] starts it): the pool.
pub struct App {
    pool: CpuPool,
}

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<Running<Self>> {
        let readiness = Readiness::new();
        let storage = ObjectStorage::connect(&settings.storage)?;
        {
            let storage = storage.clone();
            readiness.add_check("object-storage", move || {
                let storage = storage.clone();
                async move { storage.check().await }
            });
        }
        let pool = images::start_pool(settings.threads).context("starting the image pool")?;
        let producer =
            EventProducer::new(&settings.kafka).context("creating the Kafka producer")?;
        let jobs = Arc::new(Jobs::new(
            pool.clone(),
            settings.limits,
            MediaObjects::new(storage),
            ProcessedEvents::new(producer),
        ));
        let handler = Arc::new(UploadHandler::new(jobs));
        let consumers = (0..pool.threads())
            .map(|_| EventConsumer::<MediaUploaded>::new(&settings.kafka))
            .collect::<anyhow::Result<Vec<_>>>()
            .context("creating the Kafka consumers")?;

        let host = ServiceHost::start(&settings.runtime, readiness).await?;
        for consumer in consumers {
            let handler = Arc::clone(&handler);
            host.lifecycle()
                .spawn("media.uploaded consumer", move |stop| {
                    consumer.run(handler, stop)
                });
        }
        platform_kafka::DeadLetterGauge::new(&settings.kafka, Self::CONSUMED_TOPICS)
            .spawn(host.lifecycle());
        tracing::info!(
            ops_addr = %host.ops_addr(),
            threads = pool.threads(),
            "media worker consuming {}",
            MediaUploaded::TOPIC
        );
        // Draining (`Running::run_until`) lets each consumer finish the job in hand.
        Ok(Running::new(host, Self { pool }))
    }

    /// The pool the jobs run on, to watch how busy it is (`in_flight`).
    pub fn pool(&self) -> &CpuPool {
        &self.pool
    }
}
