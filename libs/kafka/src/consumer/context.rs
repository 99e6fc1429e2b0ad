//! The consumer's librdkafka callbacks: lag metrics, and logs of rebalances and failed commits.

use rdkafka::consumer::{BaseConsumer, Consumer as _, ConsumerContext, Rebalance};
use rdkafka::error::KafkaResult;
use rdkafka::{ClientContext, Statistics, TopicPartitionList};

/// How often librdkafka reports statistics (which carry the lag), in milliseconds.
pub(super) const STATISTICS_INTERVAL_MS: &str = "15000";

/// Publishes `kafka_consumer_lag{topic,partition}` (how many records of each assigned
/// partition are not yet committed by this group) and, after every rebalance,
/// `kafka_consumer_assigned_partitions{topic}` (how many partitions this member holds: 0
/// for a topic with a backlog is a member that waits while the broker counts a dead one).
pub(super) struct ConsumerMetrics {
    topics: Vec<String>,
}

impl ConsumerMetrics {
    pub(super) fn new(topics: &[&str]) -> Self {
        Self {
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    fn record_assignment(&self, consumer: &BaseConsumer<Self>) {
        let Ok(assignment) = consumer.assignment() else {
            return;
        };
        for topic in &self.topics {
            let held = assignment
                .elements()
                .iter()
                .filter(|p| p.topic() == topic)
                .count();
            metrics::gauge!("kafka_consumer_assigned_partitions", "topic" => topic.clone())
                .set(held as f64);
        }
    }
}

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
    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.record_assignment(consumer);
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
