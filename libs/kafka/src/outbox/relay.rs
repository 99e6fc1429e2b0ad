//! The relay: publishes pending outbox rows and marks them sent, and prunes old sent rows.

use std::sync::Arc;
use std::time::Duration;

use platform_postgres::bounded;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::KafkaSettings;
use crate::producer::{EventProducer, Record};
use crate::retry::{backoff, sleep_or_stop};
use crate::wire;

/// The advisory lock (`pg_try_advisory_xact_lock`) that makes pruning run on one replica at a
/// time: "outbox" in ASCII, then 1. Unique within the service's database.
pub const PRUNE_LOCK_KEY: i64 = 0x6f75_7462_6f78_0001;

/// Rows taken per round; each round holds their row locks until Kafka acknowledged them.
const BATCH_SIZE: i64 = 100;
/// How often the relay prunes published rows (when it wins the lease).
const PRUNE_EVERY: Duration = Duration::from_secs(5 * 60);
/// How often `kafka_outbox_pending` is refreshed.
const PENDING_GAUGE_EVERY: Duration = Duration::from_secs(15);
/// How often an idle relay asks the cluster who it is, to notice a broker that lost its log
/// even when nothing new is published.
const PROBE_BROKER_EVERY: Duration = Duration::from_secs(3);

/// Publishes the outbox to Kafka: run one per replica with [`OutboxRelay::run`].
///
/// Each round locks up to 100 pending rows with `for update skip locked`, publishes them
/// (queued in `created_at` order), waits for the acknowledgements, marks the acknowledged rows
/// sent and commits. A row whose delivery failed stays pending and is retried next round,
/// after a backoff. Several relays at once each take different rows, so every event is
/// published once (barring a crash between publish and commit, after which it is published
/// again). Per-key order holds while deliveries succeed and one relay is active; an event
/// retried after a failed delivery, or taken by another relay in the same instant, can land
/// after a later event of its key.
///
/// Cheap to clone; clones share the [`wake`](Self::wake) signal.
///
/// ```no_run
/// use platform_kafka::{EventProducer, KafkaSettings, OutboxRelay};
/// # fn build(pool: sqlx::PgPool, settings: &KafkaSettings, lifecycle: &platform_runtime::Lifecycle) -> anyhow::Result<()> {
/// let relay = OutboxRelay::new(pool, EventProducer::new(settings)?, settings);
/// lifecycle.spawn("outbox-relay", {
///     let relay = relay.clone();
///     move |stop| relay.run(stop)
/// });
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OutboxRelay {
    pool: PgPool,
    producer: EventProducer,
    settings: KafkaSettings,
    wake: Arc<Notify>,
    /// The cluster whose rows were last checked; `None` until the first check.
    cluster: Arc<tokio::sync::Mutex<Option<String>>>,
}

impl std::fmt::Debug for OutboxRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRelay").finish_non_exhaustive()
    }
}

/// What one round did.
#[derive(Debug, Default)]
struct Round {
    taken: usize,
    failed: usize,
}

type OutboxRow = (Uuid, String, String, String, Vec<u8>, String);

impl OutboxRelay {
    /// A relay for the outbox in `pool`'s database; nothing runs until [`run`](Self::run).
    pub fn new(pool: PgPool, producer: EventProducer, settings: &KafkaSettings) -> Self {
        Self {
            pool,
            producer,
            settings: settings.clone(),
            wake: Arc::default(),
            cluster: Arc::default(),
        }
    }

    /// Tells the relay to look for rows now instead of at its next poll; call it after
    /// committing a transaction that enqueued events.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Publishes until `stop` is cancelled, finishing the round in flight; prunes sent rows
    /// older than `KAFKA_OUTBOX_RETENTION` every few minutes and keeps `kafka_outbox_pending`
    /// current. Database and Kafka errors are logged and retried; it fails only when the
    /// producer hit a fatal error (the process should restart).
    pub async fn run(self, stop: CancellationToken) -> anyhow::Result<()> {
        tokio::try_join!(self.publish_until(&stop), self.maintain_until(&stop))?;
        Ok(())
    }

    async fn publish_until(&self, stop: &CancellationToken) -> anyhow::Result<()> {
        let mut failed_rounds = 0;
        while !stop.is_cancelled() {
            let round_failed = match self.publish_round().await {
                Ok(round) if round.failed == 0 => {
                    failed_rounds = 0;
                    // A full batch means more may be waiting: go again at once.
                    if round.taken == BATCH_SIZE as usize {
                        continue;
                    }
                    false
                }
                Ok(_) => {
                    if let Some(fatal) = self.producer.fatal_error() {
                        anyhow::bail!("the Kafka producer failed for good: {fatal}");
                    }
                    true
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the outbox relay cannot read the outbox; retrying");
                    true
                }
            };
            if round_failed {
                failed_rounds += 1;
                sleep_or_stop(backoff(self.settings.retry_backoff, failed_rounds), stop).await;
            } else {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(self.settings.outbox_poll_interval) => {}
                }
            }
        }
        Ok(())
    }

    /// One round: lock a batch, publish it, mark what was acknowledged, commit.
    async fn publish_round(&self) -> Result<Round, sqlx::Error> {
        let mut tx = bounded(self.pool.begin()).await?;
        let rows: Vec<OutboxRow> = bounded(
            sqlx::query_as(
                "select id, topic, key, event_type, payload, headers::text from outbox \
             where sent_at is null order by created_at, id limit $1 for update skip locked",
            )
            .bind(BATCH_SIZE)
            .fetch_all(&mut *tx),
        )
        .await?;
        if rows.is_empty() {
            bounded(tx.rollback()).await?;
            return Ok(Round::default());
        }
        let sent = self.publish(&rows).await;
        let cluster = self.producer.cluster_id().unwrap_or_default();
        bounded(
            sqlx::query("update outbox set sent_at = now(), sent_to = $2 where id = any($1)")
                .bind(&sent)
                .bind(&cluster)
                .execute(&mut *tx),
        )
        .await?;
        bounded(tx.commit()).await?;
        if !cluster.is_empty() {
            self.replay_for(&cluster).await?;
        }
        tracing::debug!(taken = rows.len(), sent = sent.len(), "outbox round done");
        Ok(Round {
            taken: rows.len(),
            failed: rows.len() - sent.len(),
        })
    }

    /// Publishes `rows` and returns the ids Kafka acknowledged.
    async fn publish(&self, rows: &[OutboxRow]) -> Vec<Uuid> {
        // Queued one by one, in order, before any is awaited: a key's events keep their order.
        let deliveries: Vec<_> = rows
            .iter()
            .map(|row| {
                let (record, span) = record(row);
                self.producer.publish(record).instrument(span)
            })
            .collect();
        let outcomes = futures::future::join_all(deliveries).await;
        let mut sent = Vec::with_capacity(rows.len());
        let mut first_error = None;
        for (row, outcome) in rows.iter().zip(outcomes) {
            let topic = row.1.clone();
            match outcome {
                Ok(_) => {
                    sent.push(row.0);
                    metrics::counter!("kafka_outbox_published_total", "topic" => topic)
                        .increment(1);
                }
                Err(e) => {
                    metrics::counter!("kafka_outbox_failed_total", "topic" => topic).increment(1);
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            tracing::warn!(
                failed = rows.len() - sent.len(),
                error = format!("{:#}", anyhow::Error::from(e)),
                "outbox events not delivered; they stay pending and are retried"
            );
        }
        sent
    }

    async fn maintain_until(&self, stop: &CancellationToken) -> anyhow::Result<()> {
        let mut gauge = tokio::time::interval(PENDING_GAUGE_EVERY);
        let mut prune = tokio::time::interval(PRUNE_EVERY);
        let mut probe = tokio::time::interval(PROBE_BROKER_EVERY);
        gauge.set_missed_tick_behavior(MissedTickBehavior::Delay);
        prune.set_missed_tick_behavior(MissedTickBehavior::Delay);
        probe.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return Ok(()),
                _ = gauge.tick() => self.record_pending().await,
                _ = probe.tick() => if let Err(e) = self.probe_broker().await {
                    tracing::debug!(error = %e, "asking the Kafka cluster for its id failed");
                },
                _ = prune.tick() => match self.prune_sent(self.settings.outbox_retention).await {
                    Ok(Some(deleted)) => tracing::debug!(deleted, "pruned the outbox"),
                    Ok(None) => tracing::debug!("another replica is pruning the outbox"),
                    Err(e) => tracing::warn!(error = %e, "pruning the outbox failed"),
                },
            }
        }
    }

    /// Asks the cluster for its id (through the metadata of a topic this outbox publishes to)
    /// and replays what it has not seen. Nothing to do while the outbox is empty.
    async fn probe_broker(&self) -> anyhow::Result<()> {
        let topic: Option<String> = bounded(
            sqlx::query_scalar("select topic from outbox limit 1").fetch_optional(&self.pool),
        )
        .await?;
        let Some(topic) = topic else { return Ok(()) };
        let producer = self.producer.clone();
        tokio::task::spawn_blocking(move || producer.refresh_metadata(&topic)).await??;
        if let Some(cluster) = self.producer.cluster_id() {
            self.replay_for(&cluster).await?;
        }
        Ok(())
    }

    /// The first time the relay sees `cluster`: marks pending again every kept row that
    /// another cluster acknowledged, so this one gets them too, and wakes the relay.
    async fn replay_for(&self, cluster: &str) -> Result<(), sqlx::Error> {
        let mut known = self.cluster.lock().await;
        if known.as_deref() == Some(cluster) {
            return Ok(());
        }
        let replayed = bounded(
            sqlx::query(
                "update outbox set sent_at = null, sent_to = '' \
             where sent_at is not null and sent_to <> '' and sent_to <> $1",
            )
            .bind(cluster)
            .execute(&self.pool),
        )
        .await?
        .rows_affected();
        if replayed > 0 {
            tracing::warn!(
                cluster,
                replayed,
                "the Kafka cluster has not seen events this outbox published (a new or reset \
                 broker): publishing them again"
            );
            metrics::counter!("kafka_outbox_replayed_total").increment(replayed);
            self.wake();
        } else {
            tracing::info!(
                cluster,
                "the Kafka cluster has every event this outbox keeps"
            );
        }
        *known = Some(cluster.to_owned());
        Ok(())
    }

    async fn record_pending(&self) {
        match bounded(
            sqlx::query_scalar::<_, i64>("select count(*) from outbox where sent_at is null")
                .fetch_one(&self.pool),
        )
        .await
        {
            Ok(pending) => metrics::gauge!("kafka_outbox_pending").set(pending as f64),
            Err(e) => tracing::warn!(error = %e, "counting pending outbox rows failed"),
        }
    }

    /// Deletes rows published more than `older_than` ago, if this replica gets the prune lease
    /// ([`PRUNE_LOCK_KEY`], held for the transaction). Returns how many rows went, or `None`
    /// when another replica holds the lease. [`run`](Self::run) calls it every few minutes.
    pub async fn prune_sent(&self, older_than: Duration) -> Result<Option<u64>, sqlx::Error> {
        let mut tx = bounded(self.pool.begin()).await?;
        let leased: bool = bounded(
            sqlx::query_scalar("select pg_try_advisory_xact_lock($1)")
                .bind(PRUNE_LOCK_KEY)
                .fetch_one(&mut *tx),
        )
        .await?;
        if !leased {
            bounded(tx.rollback()).await?;
            return Ok(None);
        }
        let deleted = bounded(
            sqlx::query("delete from outbox where sent_at < now() - make_interval(secs => $1)")
                .bind(older_than.as_secs_f64())
                .execute(&mut *tx),
        )
        .await?
        .rows_affected();
        bounded(tx.commit()).await?;
        Ok(Some(deleted))
    }
}

/// The Kafka record of an outbox row (its key and payload, `event-id`, `event-type` and the
/// context captured at enqueue time), and the span of its publication: a child of the trace
/// that enqueued the event, whose context the record carries on, so the relay's hop shows in
/// the trace between the producer and the consumer.
fn record(row: &OutboxRow) -> (Record<'_>, tracing::Span) {
    let (id, topic, key, event_type, payload, context) = row;
    let stored: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(context).unwrap_or_default();
    let mut context = http::HeaderMap::new();
    for (name, value) in &stored {
        if let (Ok(name), Some(Ok(value))) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            value.as_str().map(http::HeaderValue::from_str),
        ) {
            context.insert(name, value);
        }
    }
    let span = tracing::info_span!(
        "publish event",
        otel.kind = "producer",
        messaging.system = "kafka",
        messaging.destination.name = %topic,
        event_id = %id,
        event_type = %event_type,
    );
    platform_telemetry::context::extract(&context, &span);
    span.in_scope(|| platform_telemetry::context::inject(&mut context));

    let record = Record {
        topic,
        key: Some(key.as_bytes()),
        payload,
        headers: wire::event_headers(&id.to_string(), event_type, &context),
    };
    (record, span)
}
