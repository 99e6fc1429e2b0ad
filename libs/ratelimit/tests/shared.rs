//! The limiter against the real Redis: bursts, refills, one limit across replicas, independent
//! clients, and the keys it leaves.

mod common;

use std::time::{Duration, Instant};

use platform_ratelimit::{Decision, Quota, RateLimiter};
use platform_redis::redis;
use tokio::task::JoinSet;

use common::{limiter, pool, prefix};

/// From `not_before` on, checks every 10 ms until a request is allowed; fails if it is still
/// refused `grace` later. Returns the allowed decision and when it came. (Waking late cannot
/// fail it: later only means more quota back.)
async fn until_allowed(
    limiter: &RateLimiter,
    class: &str,
    client: &str,
    not_before: Instant,
    grace: Duration,
) -> (Decision, Instant) {
    tokio::time::sleep_until(not_before.into()).await;
    loop {
        let decision = limiter.check(class, client).await.unwrap();
        if decision.allowed {
            return (decision, Instant::now());
        }
        assert!(
            Instant::now() < not_before + grace,
            "still refused {grace:?} after the computed refill: {decision:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_burst_beyond_the_quota_is_refused_with_retry_after_and_refills_over_time() {
    // 5 per second: a burst of 5, then one request back every 200 ms.
    let quota = Quota::new(5, Duration::from_secs(1));
    let limiter = limiter(pool(), &prefix(), "reads", quota);

    for expected in [4, 3, 2, 1, 0] {
        let decision = limiter.check("reads", "alice").await.unwrap();
        assert!(decision.allowed && !decision.local, "{decision:?}");
        assert_eq!(decision.remaining, expected);
    }

    let refused = limiter.check("reads", "alice").await.unwrap();
    let refused_at = Instant::now();
    assert!(!refused.allowed && !refused.local, "{refused:?}");
    assert_eq!(refused.remaining, 0);
    let retry = refused.retry_after.expect("a refusal says when to retry");
    assert!(
        retry > Duration::ZERO && retry <= Duration::from_millis(200),
        "{retry:?}"
    );
    assert!(refused.reset_after <= Duration::from_secs(1) && refused.reset_after >= retry);
    assert!(refused.retry_after_secs() == Some(1));

    // Halfway to the computed instant: still refused (a refusal costs nothing, writes nothing).
    tokio::time::sleep_until((refused_at + retry / 2).into()).await;
    assert!(!limiter.check("reads", "alice").await.unwrap().allowed);
    // One request comes back at `retry` (polled within 50 ms after it, so an understated
    // retry-after fails), not all of them: allowed once, then refused again.
    let (one_back, at) = until_allowed(
        &limiter,
        "reads",
        "alice",
        refused_at + retry,
        Duration::from_millis(50),
    )
    .await;
    assert_eq!(one_back.remaining, 0, "{one_back:?}");
    assert!(!limiter.check("reads", "alice").await.unwrap().allowed);

    // At `reset_after` with no requests, the whole burst is back.
    tokio::time::sleep_until((at + one_back.reset_after).into()).await;
    let full = limiter.check("reads", "alice").await.unwrap();
    assert_eq!(full.remaining, 4, "{full:?}");
}

#[tokio::test]
async fn two_replicas_sharing_redis_enforce_one_limit() {
    let prefix = prefix();
    let quota = Quota::new(10, Duration::from_secs(60));
    // Two limiters with their own pools: two gateway replicas.
    let a = limiter(pool(), &prefix, "writes", quota);
    let b = limiter(pool(), &prefix, "writes", quota);

    for expected in [9, 8, 7] {
        assert_eq!(a.check("writes", "bob").await.unwrap().remaining, expected);
    }
    assert_eq!(b.check("writes", "bob").await.unwrap().remaining, 6);

    // Both at once, far more than is left: exactly the 6 left go through.
    let mut checks = JoinSet::new();
    for i in 0..40 {
        let replica = if i % 2 == 0 { a.clone() } else { b.clone() };
        checks.spawn(async move { replica.check("writes", "bob").await.unwrap() });
    }
    let decisions = checks.join_all().await;
    let allowed = decisions.iter().filter(|d| d.allowed).count();
    assert_eq!(allowed, 6, "{decisions:?}");
    assert!(decisions.iter().all(|d| !d.local));
    assert!(!a.check("writes", "bob").await.unwrap().allowed);
    assert!(!b.check("writes", "bob").await.unwrap().allowed);
}

#[tokio::test]
async fn clients_and_classes_are_independent() {
    let limiter = RateLimiter::builder(pool())
        .key_prefix(prefix())
        .class("auth", Quota::new(2, Duration::from_secs(60)))
        .class("reads", Quota::new(3, Duration::from_secs(60)))
        .build()
        .unwrap();
    for _ in 0..2 {
        assert!(limiter.check("auth", "ip:192.0.2.1").await.unwrap().allowed);
    }
    assert!(!limiter.check("auth", "ip:192.0.2.1").await.unwrap().allowed);

    let other_client = limiter.check("auth", "ip:192.0.2.2").await.unwrap();
    assert!(other_client.allowed);
    assert_eq!(other_client.remaining, 1);

    let other_class = limiter.check("reads", "ip:192.0.2.1").await.unwrap();
    assert!(other_class.allowed);
    assert_eq!(other_class.remaining, 2);
    assert_eq!(&*other_class.class, "reads");

    assert!(limiter.check("uploads", "ip:192.0.2.1").await.is_err());
}

#[tokio::test]
async fn keys_are_prefixed_hashed_and_expire_when_the_quota_is_full_again() {
    let prefix = prefix();
    let per = Duration::from_secs(30);
    let limiter = limiter(pool(), &prefix, "auth", Quota::new(3, per));
    let nasty = "x\r\n*1\r\n$8\r\nFLUSHALL\r\n {tag} * ? :";
    limiter.check("auth", nasty).await.unwrap();
    limiter.check("auth", nasty).await.unwrap();

    let mut conn = pool().get().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut *conn)
        .await
        .unwrap();
    assert_eq!(keys, [limiter.key("auth", nasty).unwrap()]);
    let hash = keys[0]
        .strip_prefix(&format!("{prefix}ratelimit:auth:"))
        .expect("prefix, then ratelimit:CLASS:");
    assert!(
        hash.len() == 32
            && hash
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{hash}"
    );
    // Two of three used: full again after two emission intervals (20 s).
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&keys[0])
        .query_async(&mut *conn)
        .await
        .unwrap();
    assert!((19_000..=20_000).contains(&ttl), "PTTL {ttl}");
}

#[tokio::test]
async fn invalid_classes_and_quotas_are_refused_at_build_time() {
    let build = |class: &str, quota| {
        RateLimiter::builder(pool())
            .class(class, quota)
            .build()
            .err()
    };
    assert!(build("a:b", Quota::per_second(1)).is_some());
    assert!(build("", Quota::per_second(1)).is_some());
    assert!(build("reads", Quota::per_second(0)).is_some());
    assert!(build("reads", Quota::new(1, Duration::ZERO)).is_some());
    assert!(build("reads", Quota::per_second(1)).is_none());
    let twice = RateLimiter::builder(pool())
        .class("reads", Quota::per_second(1))
        .class("reads", Quota::per_second(2))
        .build();
    assert!(twice.is_err());
}
