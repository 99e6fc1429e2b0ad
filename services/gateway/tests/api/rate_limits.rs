//! Per-client rate limits: one limit across gateway replicas sharing Redis, per client (the
//! token's user, else the address), 429 problem+json with the draft's headers, and a
//! per-replica limit rather than a refusal of everyone when Redis is down.

use gateway_service::{App, Settings};
use platform_ratelimit::Quota;
use platform_testkit::refused_addr;
use reqwest::Method;

use crate::helpers::{assert_problem, spawn_platform_with};
use crate::platform::send;

/// A gateway whose upstreams are nowhere (the routes used here need none), trusting one
/// proxy hop so a test can speak for many clients, then as `configure` says.
async fn gateway(configure: impl FnOnce(&mut Settings)) -> String {
    let nowhere = refused_addr().await;
    let mut settings = Settings::for_tests(nowhere, nowhere);
    settings.http.trusted_proxy_hops = 1;
    configure(&mut settings);
    let app = App::build(settings).await.expect("gateway starts");
    let base = format!("http://{}", app.http_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    base
}

async fn read_as(client: &reqwest::Client, base: &str, address: &str) -> reqwest::Response {
    client
        .get(format!("{base}/openapi.json"))
        .header("x-forwarded-for", address)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_flood_from_one_client_is_limited_across_two_replicas_while_another_is_served() {
    // Two replicas of one deployment: the same Redis and key prefix, the same quota.
    let nowhere = refused_addr().await;
    let mut template = Settings::for_tests(nowhere, nowhere);
    template.rate_limits.reads = Quota::per_minute(6);
    let prefix = template.redis.key_prefix.clone();
    let quota = template.rate_limits.reads;
    let configure = |settings: &mut Settings| {
        settings.redis.key_prefix = prefix.clone();
        settings.rate_limits.reads = quota;
    };
    let replicas = [gateway(configure).await, gateway(configure).await];
    let client = reqwest::Client::new();

    // The flooder alternates between the replicas: 6 in all are served, not 6 each.
    let mut served = 0;
    for i in 0..12 {
        let response = read_as(&client, &replicas[i % 2], "198.51.100.1").await;
        if response.status() == 200 {
            served += 1;
            continue;
        }
        let headers = response.headers().clone();
        let body = assert_problem(response, 429, "RATE_LIMITED").await;
        assert!(body["detail"].as_str().unwrap().contains("reads"), "{body}");
        let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=10).contains(&retry_after), "{retry_after}");
        assert_eq!(headers["ratelimit-policy"], r#""reads";q=6;w=60"#);
        let remaining = headers["ratelimit"].to_str().unwrap();
        assert!(remaining.starts_with(r#""reads";r=0;t="#), "{remaining}");
    }
    assert_eq!(served, 6, "one limit across both replicas");

    // Another client, on either replica, is served, and told where it stands.
    for replica in &replicas {
        let response = read_as(&client, replica, "198.51.100.2").await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["ratelimit-policy"],
            r#""reads";q=6;w=60"#
        );
    }
}

#[tokio::test]
async fn with_redis_down_each_replica_still_limits_and_serves_others() {
    let base = gateway(|settings| {
        settings.redis.url = "redis://127.0.0.1:1".into();
        settings.rate_limits.reads = Quota::per_minute(3);
    })
    .await;
    let client = reqwest::Client::new();
    let statuses: Vec<u16> = {
        let mut statuses = Vec::new();
        for _ in 0..5 {
            statuses.push(
                read_as(&client, &base, "198.51.100.3")
                    .await
                    .status()
                    .as_u16(),
            );
        }
        statuses
    };
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    assert_eq!(read_as(&client, &base, "198.51.100.4").await.status(), 200);
}

#[tokio::test]
async fn a_signed_in_user_is_one_client_whatever_the_address() {
    let app = spawn_platform_with(Box::new(|_, _, gateway| {
        gateway.http.trusted_proxy_hops = 1;
        gateway.rate_limits.reads = Quota::per_minute(4);
    }))
    .await;
    let (_, _, tokens) = app.register("eu").await;
    let token = tokens["access_token"].as_str().unwrap();
    let mut statuses = Vec::new();
    for i in 0..6 {
        let response = send(
            app.request(Method::GET, "/.well-known/jwks.json")
                .bearer_auth(token)
                .header("x-forwarded-for", format!("203.0.113.{i}")),
        )
        .await;
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429]);
    // Anyone else is still served.
    let other = send(
        app.request(Method::GET, "/.well-known/jwks.json")
            .header("x-forwarded-for", "203.0.113.200"),
    )
    .await;
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn registrations_from_one_address_are_limited_as_auth() {
    let app = spawn_platform_with(Box::new(|_, _, gateway| {
        gateway.rate_limits.auth = Quota::per_minute(2);
    }))
    .await;
    app.register("eu").await;
    app.register("us").await;
    let third = app.post_registration("third@example.com", "eu").await;
    assert_problem(third, 429, "RATE_LIMITED").await;
}
