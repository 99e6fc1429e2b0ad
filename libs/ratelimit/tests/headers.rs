//! The RateLimit-Policy, RateLimit and Retry-After fields of
//! draft-ietf-httpapi-ratelimit-headers-11, from real decisions and from edge cases.

mod common;

use std::time::Duration;

use platform_ratelimit::{Decision, HEADERS_DRAFT, Quota, policy_item};

use common::{limiter, pool, prefix};

fn header<'a>(headers: &'a [(http::HeaderName, http::HeaderValue)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.to_str().unwrap())
}

#[tokio::test]
async fn an_allowed_request_gets_the_policy_and_what_is_left() {
    let limiter = limiter(pool(), &prefix(), "reads", Quota::per_minute(600));
    let decision = limiter.check("reads", "erin").await.unwrap();
    let headers = decision.headers();
    assert_eq!(headers.len(), 2, "{headers:?}");
    assert_eq!(
        header(&headers, "ratelimit-policy"),
        Some(r#""reads";q=600;w=60"#)
    );
    // One of 600 used; it comes back in 100 ms, so the quota is full again within 1 s.
    assert_eq!(header(&headers, "ratelimit"), Some(r#""reads";r=599;t=1"#));
    assert_eq!(header(&headers, "retry-after"), None);
}

#[tokio::test]
async fn a_refused_request_gets_retry_after_and_an_effective_window_no_later() {
    // 2 per 30 s: one back every 15 s.
    let quota = Quota::new(2, Duration::from_secs(30));
    let limiter = limiter(pool(), &prefix(), "auth", quota);
    for _ in 0..2 {
        assert!(limiter.check("auth", "frank").await.unwrap().allowed);
    }
    let refused = limiter.check("auth", "frank").await.unwrap();
    assert!(refused.reset_after > Duration::from_secs(29), "{refused:?}");
    let headers = refused.headers();
    assert_eq!(
        header(&headers, "ratelimit-policy"),
        Some(r#""auth";q=2;w=30"#)
    );
    // t is when the next request is allowed (r=0 until then), not when both are back (30 s),
    // so Retry-After does not point before the end of the effective window (draft §6).
    assert_eq!(header(&headers, "ratelimit"), Some(r#""auth";r=0;t=15"#));
    assert_eq!(header(&headers, "retry-after"), Some("15"));
}

fn decision(class: &str, quota: Quota) -> Decision {
    Decision {
        class: class.into(),
        quota,
        allowed: true,
        remaining: 7,
        reset_after: Duration::from_millis(2_001),
        retry_after: None,
        local: false,
    }
}

#[test]
fn windows_and_waits_round_up_to_whole_seconds() {
    let mut d = decision("writes", Quota::new(10, Duration::from_millis(1_500)));
    assert_eq!(d.policy_header(), r#""writes";q=10;w=2"#);
    assert_eq!(d.ratelimit_header(), r#""writes";r=7;t=3"#);
    d.quota = Quota::new(10, Duration::from_millis(100));
    assert_eq!(d.policy_header(), r#""writes";q=10;w=1"#);

    d.allowed = false;
    d.remaining = 0;
    d.retry_after = Some(Duration::ZERO);
    assert_eq!(d.retry_after_secs(), Some(1), "Retry-After is at least 1");
    assert_eq!(d.ratelimit_header(), r#""writes";r=0;t=1"#);
    d.retry_after = Some(Duration::from_millis(4_000));
    assert_eq!(d.retry_after_secs(), Some(4));
    d.retry_after = Some(Duration::from_micros(4_000_001));
    assert_eq!(d.retry_after_secs(), Some(5));
}

#[test]
fn policy_names_are_structured_field_strings() {
    let d = decision(r#"we"ird\"#, Quota::per_minute(5));
    assert_eq!(d.policy_header(), r#""we\"ird\\";q=5;w=60"#);
    assert_eq!(
        policy_item("café", Quota::per_second(1)),
        r#""caf?";q=1;w=1"#
    );
    assert_eq!(HEADERS_DRAFT, "draft-ietf-httpapi-ratelimit-headers-11");
}
