//! The consumer's librdkafka callbacks: lag metrics, and logs of rebalances and failed commits.

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaResult;
use rdkafka::{ClientContext, Statistics, TopicPartitionList};

/// How often librdkafka reports statistics (which carry the lag), in milliseconds.
pub(super) const STATISTICS_INTERVAL_MS: &str = "15000";

/// Publishes `kafka_consumer_lag{topic,partition}`: how many records of each assigned
/// partition are not yet committed by this group.
pub(super) struct ConsumerMetrics;

impl ClientContext for ConsumerMetrics {
    fn stats(&self, statistics: Statistics) {
        for (topic, stats) in statistics.topics {
            for (partition, stats) in stats.partitions {
                // -1 is librdkafka's internal "unassigned" partition; lag -1 means unknown
                // (a partition this consumer is not assigned).
                if partition >= 0 && stats.consumer_lag >= 0 {
                    metrics::gauge!(
                        "kafka_consumer_lag",
                        "topic" => topic.clone(),
                        "partition" => partition.to_string(),
                    )
                    .set(stats.consumer_lag as f64);
                }
            }
        }
    }
}

impl ConsumerContext for ConsumerMetrics {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(partitions) => {
                tracing::info!(partitions = partitions.count(), "Kafka partitions assigned");
            }
            Rebalance::Revoke(partitions) => {
                tracing::info!(partitions = partitions.count(), "Kafka partitions revoked");
            }
            Rebalance::Error(e) => tracing::warn!(error = %e, "Kafka rebalance failed"),
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, _offsets: &TopicPartitionList) {
        if let Err(e) = result {
            tracing::warn!(error = %e, "committing Kafka offsets failed; those events may be redelivered");
        }
    }
}
