//! `kafka_dead_letters_waiting{topic}`, refreshed in the background.

use std::time::Duration;

use platform_runtime::Lifecycle;
use tokio_util::sync::CancellationToken;

use super::DeadLetters;
use crate::KafkaSettings;

/// How often the gauge is refreshed by default: alerts wait minutes, so this is plenty.
const REFRESH_EVERY: Duration = Duration::from_secs(30);

/// Keeps `kafka_dead_letters_waiting{topic}` current: the records of each dead-letter topic
/// not yet re-driven or discarded (see [`DeadLetters`]), from the topic's watermarks and the
/// redrive group's commits. Every replica reports the same numbers; alert on their `max`.
///
/// ```no_run
/// use platform_kafka::DeadLetterGauge;
/// # fn build(settings: &platform_kafka::KafkaSettings, lifecycle: &platform_runtime::Lifecycle) {
/// DeadLetterGauge::new(settings, &["user.registered"]).spawn(lifecycle);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct DeadLetterGauge {
    dead_letters: DeadLetters,
    every: Duration,
}

impl DeadLetterGauge {
    /// A gauge of the dead-letter topics of `topics` (the topics the service consumes).
    pub fn new(settings: &KafkaSettings, topics: &[&str]) -> Self {
        Self {
            dead_letters: DeadLetters::new(settings, topics),
            every: REFRESH_EVERY,
        }
    }

    /// Refreshes every `every` instead of every 30 s (tests).
    pub fn every(mut self, every: Duration) -> Self {
        self.every = every;
        self
    }

    /// Runs the gauge ([`run`](Self::run)) on the service's `lifecycle` until it stops.
    pub fn spawn(self, lifecycle: &Lifecycle) {
        lifecycle.spawn("dead-letter gauge", move |stop| self.run(stop));
    }

    /// Refreshes at once, then periodically, until `stop` is cancelled. A refresh that fails
    /// (Kafka unreachable) is logged and the gauge keeps its last values; it never fails the
    /// service.
    pub async fn run(self, stop: CancellationToken) -> anyhow::Result<()> {
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => return Ok(()),
                refreshed = self.dead_letters.waiting() => match refreshed {
                    Ok(counts) => {
                        for (topic, waiting) in counts {
                            metrics::gauge!("kafka_dead_letters_waiting", "topic" => topic)
                                .set(waiting as f64);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "counting dead letters failed"),
                },
            }
            tokio::select! {
                () = stop.cancelled() => return Ok(()),
                () = tokio::time::sleep(self.every) => {}
            }
        }
    }
}
