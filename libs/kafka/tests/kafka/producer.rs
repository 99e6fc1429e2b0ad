//! The producer's delivery deadline.

use std::time::{Duration, Instant};

use platform_kafka::{EventProducer, KafkaSettings, PublishError, Record};
use platform_testkit::black_hole;
use rdkafka::message::OwnedHeaders;

#[tokio::test]
async fn publishing_to_a_broker_that_never_answers_fails_within_the_delivery_timeout() {
    let silent = black_hole().await;
    let mut settings = KafkaSettings::for_tests(&silent.to_string(), "test");
    settings.delivery_timeout = Duration::from_secs(1);
    let producer = EventProducer::new(&settings).unwrap();

    let started = Instant::now();
    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        producer.publish(Record {
            topic: "user.registered",
            key: Some(b"user-1"),
            payload: b"x",
            headers: OwnedHeaders::new(),
        }),
    )
    .await
    .expect("a publish never hangs");

    let elapsed = started.elapsed();
    assert!(
        matches!(outcome, Err(PublishError::TimedOut { .. })),
        "{outcome:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "failed after {elapsed:?}");
}
