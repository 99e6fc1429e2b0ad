//! Kafka settings. Variables read:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `KAFKA_BROKERS` | none: no cluster | `host:port[,host:port..]`; when unset the caller starts an [`EmbeddedKafka`](crate::EmbeddedKafka) and passes its address to [`KafkaSettings::with_brokers`] (services refuse to start without it outside tests and the native run) |
//! | `KAFKA_DELIVERY_TIMEOUT` | `5s` | how long a publish may take, retries included, before it is reported as failed (the producer's `message.timeout.ms`) |
//! | `KAFKA_CONSUMER_GROUP` | the service's name | the consumer group |
//! | `KAFKA_RETRY_BUDGET` | `24h` | how long an event whose handler keeps failing transiently (a dependency down) is retried, holding only its own partition, before it is dead-lettered; the `ConsumerPartitionStalled` alert fires long before |
//! | `KAFKA_RETRY_BACKOFF` | `200ms` | the first retry delay, doubled per attempt with jitter and capped at 10s for handler retries (30s for deliveries) |
//! | `KAFKA_SESSION_TIMEOUT` | `10s` | how soon the group notices a consumer that died (heartbeats go every third of it); brokers refuse less than `6s` unless configured to |
//! | `KAFKA_OUTBOX_POLL_INTERVAL` | `500ms` | how often an idle outbox relay looks for new rows (a [`wake`](crate::OutboxRelay::wake) after commit skips the wait) |
//! | `KAFKA_OUTBOX_RETENTION` | `24h` | how long published outbox rows are kept |

use std::time::Duration;

use platform_config::{ConfigError, Env};

/// Everything the producer, the consumer and the outbox relay need.
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// `None` when `KAFKA_BROKERS` is unset; see [`KafkaSettings::with_brokers`].
    pub brokers: Option<String>,
    /// Sent as `client.id`, so broker logs and metrics name the service.
    pub client_id: String,
    pub consumer_group: String,
    pub delivery_timeout: Duration,
    /// How long a transiently failing event is retried before it is dead-lettered.
    pub retry_budget: Duration,
    pub retry_backoff: Duration,
    pub session_timeout: Duration,
    pub outbox_poll_interval: Duration,
    pub outbox_retention: Duration,
}

impl KafkaSettings {
    /// The brokers' variable. `from_env` lets it be unset (tests and the native run fill in an
    /// embedded broker), but a service cannot serve without it: a publishing or consuming
    /// service lists it in its `platform_runtime::Service::SERVING_NEEDS`.
    pub const BROKERS: &str = "KAFKA_BROKERS";

    /// Reads the variables listed in this module's documentation; `client_id` is the service's
    /// name and the default consumer group.
    ///
    /// ```
    /// use platform_config::Env;
    /// use platform_kafka::KafkaSettings;
    ///
    /// let env = Env::from_pairs([("KAFKA_BROKERS", "kafka:9092"), ("KAFKA_RETRY_BUDGET", "2h")]);
    /// let settings = KafkaSettings::from_env(&env, "user")?;
    /// assert_eq!(settings.consumer_group, "user");
    /// assert_eq!(settings.retry_budget, std::time::Duration::from_secs(2 * 3600));
    /// # Ok::<(), platform_config::ConfigError>(())
    /// ```
    pub fn from_env(env: &Env, client_id: &str) -> Result<Self, ConfigError> {
        let settings = Self {
            brokers: env.optional(Self::BROKERS)?,
            client_id: client_id.to_owned(),
            consumer_group: env.or("KAFKA_CONSUMER_GROUP", client_id.to_owned())?,
            delivery_timeout: env.duration_or("KAFKA_DELIVERY_TIMEOUT", Duration::from_secs(5))?,
            retry_budget: env.duration_or("KAFKA_RETRY_BUDGET", Duration::from_secs(24 * 3600))?,
            retry_backoff: env.duration_or("KAFKA_RETRY_BACKOFF", Duration::from_millis(200))?,
            session_timeout: env.duration_or("KAFKA_SESSION_TIMEOUT", Duration::from_secs(10))?,
            outbox_poll_interval: env
                .duration_or("KAFKA_OUTBOX_POLL_INTERVAL", Duration::from_millis(500))?,
            outbox_retention: env
                .duration_or("KAFKA_OUTBOX_RETENTION", Duration::from_secs(24 * 3600))?,
        };
        settings.validate()?;
        Ok(settings)
    }

    /// Settings for tests against `brokers` (usually an [`EmbeddedKafka`](crate::EmbeddedKafka)):
    /// quick retries within a one-minute budget, a fast relay, and a 6 s session timeout: the smallest a real broker
    /// accepts by default, and more than the embedded broker's 3 s wait before a new group's
    /// first assignment (a member whose session ends during that wait is never answered).
    pub fn for_tests(brokers: &str, client_id: &str) -> Self {
        Self {
            brokers: Some(brokers.to_owned()),
            client_id: client_id.to_owned(),
            consumer_group: client_id.to_owned(),
            delivery_timeout: Duration::from_secs(5),
            retry_budget: Duration::from_secs(60),
            retry_backoff: Duration::from_millis(10),
            session_timeout: Duration::from_secs(6),
            outbox_poll_interval: Duration::from_millis(50),
            outbox_retention: Duration::from_secs(3600),
        }
    }

    /// These settings pointed at `brokers`, e.g. an embedded broker when `KAFKA_BROKERS` is unset.
    pub fn with_brokers(mut self, brokers: impl Into<String>) -> Self {
        self.brokers = Some(brokers.into());
        self
    }

    /// The bootstrap servers, or an error naming `KAFKA_BROKERS` when there are none.
    pub fn bootstrap_servers(&self) -> Result<&str, ConfigError> {
        self.brokers.as_deref().ok_or_else(|| ConfigError::Missing {
            name: Self::BROKERS.to_owned(),
        })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        // librdkafka reads a zero message timeout as "wait forever": exactly what we forbid.
        for (name, value) in [
            ("KAFKA_DELIVERY_TIMEOUT", self.delivery_timeout),
            ("KAFKA_SESSION_TIMEOUT", self.session_timeout),
        ] {
            if value.is_zero() || value > Duration::from_secs(3600) {
                return Err(ConfigError::invalid(name, "must be between 1ms and 1h"));
            }
        }
        if self.retry_budget < Duration::from_secs(1) {
            return Err(ConfigError::invalid(
                "KAFKA_RETRY_BUDGET",
                "must be at least 1s (hours, in production)",
            ));
        }
        if self.outbox_poll_interval.is_zero() {
            return Err(ConfigError::invalid(
                "KAFKA_OUTBOX_POLL_INTERVAL",
                "must be above zero",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let settings =
            KafkaSettings::from_env(&Env::from_pairs::<&str, &str>([]), "media").unwrap();
        assert_eq!(settings.brokers, None);
        assert_eq!(settings.consumer_group, "media");
        assert_eq!(settings.delivery_timeout, Duration::from_secs(5));
        assert_eq!(settings.retry_budget, Duration::from_secs(24 * 3600));
        assert_eq!(settings.retry_backoff, Duration::from_millis(200));
        assert_eq!(settings.session_timeout, Duration::from_secs(10));
        let err = settings.bootstrap_servers().unwrap_err().to_string();
        assert!(err.contains("KAFKA_BROKERS"), "{err}");
    }

    #[test]
    fn durations_that_cannot_work_are_refused_naming_the_variable() {
        // A zero delivery timeout means forever to librdkafka; a retry budget under a second
        // leaves no time to retry.
        for variable in ["KAFKA_DELIVERY_TIMEOUT", "KAFKA_RETRY_BUDGET"] {
            let env = Env::from_pairs([(variable, "0s")]);
            let err = KafkaSettings::from_env(&env, "user")
                .unwrap_err()
                .to_string();
            assert!(err.contains(variable), "{variable}: {err}");
        }
    }
}
