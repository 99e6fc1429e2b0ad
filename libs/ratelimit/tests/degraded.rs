//! Redis unreachable, silent, or back again: the limiter keeps limiting on its own, never
//! refuses everyone, warns once per outage, and shares the limit again when Redis answers.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use platform_ratelimit::{Quota, RateLimiter};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use common::{pool, pool_on, prefix};

#[tokio::test]
async fn with_redis_unreachable_it_limits_per_replica_and_never_refuses_everyone() {
    // Nothing listens on port 1: every connection is refused at once.
    let limiter = RateLimiter::builder(pool_on("redis://127.0.0.1:1"))
        .class("auth", Quota::new(3, Duration::from_secs(60)))
        .build()
        .unwrap();
    assert!(!limiter.is_degraded());

    for expected in [2, 1, 0] {
        let decision = limiter.check("auth", "ip:198.51.100.1").await.unwrap();
        assert!(decision.allowed && decision.local, "{decision:?}");
        assert_eq!(decision.remaining, expected);
    }
    assert!(limiter.is_degraded());
    let refused = limiter.check("auth", "ip:198.51.100.1").await.unwrap();
    assert!(!refused.allowed && refused.local, "{refused:?}");
    let retry = refused.retry_after.unwrap();
    assert!(
        retry > Duration::from_secs(19) && retry <= Duration::from_secs(20),
        "{retry:?}"
    );
    assert_eq!(refused.retry_after_secs(), Some(20));

    // Everyone else still gets through, each with a quota of their own.
    for i in 0..200 {
        let decision = limiter
            .check("auth", &format!("ip:203.0.113.{i}"))
            .await
            .unwrap();
        assert!(decision.allowed, "client {i}: {decision:?}");
    }
}

#[tokio::test]
async fn a_silent_redis_costs_one_deadline_then_requests_are_decided_at_once() {
    let silent = platform_testkit::black_hole().await;
    let limiter = RateLimiter::builder(pool_on(&format!("redis://{silent}")))
        .class("reads", Quota::per_minute(600))
        .probe_interval(Duration::from_secs(30))
        .deadline(Duration::from_millis(120))
        .build()
        .unwrap();

    let started = Instant::now();
    let first = limiter.check("reads", "carol").await.unwrap();
    let first_took = started.elapsed();
    assert!(first.allowed && first.local, "{first:?}");
    // The limiter's own deadline, not the pool's (300 ms to connect, 300 ms per command).
    assert!(first_took >= Duration::from_millis(120), "{first_took:?}");
    assert!(first_took < Duration::from_millis(300), "{first_took:?}");
    assert!(limiter.is_degraded());

    let started = Instant::now();
    for _ in 0..10 {
        assert!(limiter.check("reads", "carol").await.unwrap().local);
    }
    let rest_took = started.elapsed();
    assert!(rest_took < Duration::from_millis(50), "{rest_took:?}");
}

/// A TCP relay from `addr` to the test Redis; stopping it closes every relayed connection.
struct Relay(JoinHandle<()>);

impl Relay {
    async fn start(addr: SocketAddr) -> Self {
        let redis = platform_testkit::redis_url();
        let upstream = redis
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind(addr).await.expect("binding the relay");
        Self(tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                connections.spawn(async move {
                    let mut outbound = TcpStream::connect(&upstream).await?;
                    tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await
                });
            }
        }))
    }

    fn stop(self) {
        self.0.abort(); // drops the JoinSet: every relayed connection is aborted and closed
    }
}

/// Log lines written while a test runs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn count(&self, needle: &str) -> usize {
        let bytes = self.0.lock().unwrap();
        String::from_utf8_lossy(&bytes).matches(needle).count()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn warns_once_per_outage_and_shares_the_limit_again_when_redis_answers() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test runs on one thread (tokio's current-thread runtime), so this covers it.
    let _guard = tracing::subscriber::set_default(subscriber);

    let addr = platform_testkit::refused_addr().await;
    let prefix = prefix();
    let quota = Quota::new(1000, Duration::from_secs(60));
    let limiter = RateLimiter::builder(pool_on(&format!("redis://{addr}")))
        .key_prefix(&prefix)
        .class("reads", quota)
        .probe_interval(Duration::ZERO) // every request tries Redis: the worst case for logs
        .build()
        .unwrap();
    // Another replica, on Redis directly, sees what reaches Redis.
    let direct = common::limiter(pool(), &prefix, "reads", quota);

    // Outage 1: many failing requests, one warning.
    for _ in 0..20 {
        assert!(limiter.check("reads", "dave").await.unwrap().local);
    }
    assert!(limiter.is_degraded());
    assert_eq!(
        captured.count("WARN"),
        1,
        "{}",
        captured.count("rate limiting")
    );

    // Redis reachable again: the next request goes to Redis, and is counted there.
    let relay = Relay::start(addr).await;
    let back = limiter.check("reads", "dave").await.unwrap();
    assert!(!back.local && back.allowed, "{back:?}");
    assert!(!limiter.is_degraded());
    assert_eq!(back.remaining, 999);
    assert_eq!(direct.check("reads", "dave").await.unwrap().remaining, 998);
    assert_eq!(captured.count("Redis answers again"), 1);

    // Outage 2: a second warning, still only one.
    relay.stop();
    for _ in 0..20 {
        assert!(limiter.check("reads", "dave").await.unwrap().local);
    }
    assert_eq!(captured.count("WARN"), 2);
}
