//! Whole runs against the stub: the ledger holds what was acknowledged, the report names
//! routes by template, and a verification of the run's own ledger passes.

use std::time::Duration;

use platform_loadgen::{
    Load, Report, RouteReport, RunConfig, VerifyConfig, WriteKind, run, verify,
};

use crate::stub::{Stub, World};

fn config(stub: &Stub, load: Load, mix: &str) -> RunConfig {
    RunConfig {
        duration: Duration::from_millis(1500),
        timeout: Duration::from_secs(2),
        mix: mix.parse().unwrap(),
        ..RunConfig::new(&stub.url, load)
    }
}

/// A closed-loop run of two users doing `mix` against a stub with the faults `fault` sets.
async fn run_two_users(mix: &str, fault: impl FnOnce(&mut World)) -> (Stub, Report) {
    let mut world = World::default();
    fault(&mut world);
    let stub = Stub::start(world).await;
    let report = run(config(&stub, Load::Users(2), mix)).await.unwrap();
    (stub, report)
}

/// What the report says of `route`.
fn route<'a>(report: &'a Report, route: &str) -> &'a RouteReport {
    report
        .routes
        .iter()
        .find(|r| r.route == route)
        .unwrap_or_else(|| panic!("no {route} in {report}"))
}

#[tokio::test]
async fn a_closed_loop_run_records_its_acknowledged_writes_and_verifies() {
    let stub = Stub::start(World::default()).await;
    let report = run(config(
        &stub,
        Load::Users(3),
        "login=1,read_me=1,update_bio=2,read_other=2,upload_avatar=1",
    ))
    .await
    .unwrap();

    assert_eq!(report.ledger.users.len(), 3);
    let regions: Vec<&str> = report
        .ledger
        .users
        .iter()
        .map(|u| u.region.as_str())
        .collect();
    assert_eq!(regions, ["eu", "us", "eu"], "regions in turn");
    assert!(!report.ledger.bios.is_empty());
    assert!(!report.ledger.uploads.is_empty());
    assert!(!report.ledger.avatars.is_empty());
    assert!(
        report.ledger.unknown.is_empty(),
        "{:?}",
        report.ledger.unknown
    );
    // The ledger's bios are what the platform holds.
    for (user, bio) in &report.ledger.bios {
        assert_eq!(&stub.world().profiles[user].bio, bio);
    }
    let routes: Vec<&str> = report.routes.iter().map(|r| r.route.as_str()).collect();
    for route in [
        "POST /v1/auth/register",
        "PATCH /v1/users/me",
        "GET /v1/users/{id}",
        "POST /v1/media",
        "GET /v1/media/{id}",
        "PUT /v1/users/me/avatar",
    ] {
        assert!(routes.contains(&route), "{route} not in {routes:?}");
    }
    assert_eq!(report.total.errors.len(), 0, "{report}");
    assert_eq!(report.journeys["register"], 3);
    let printed = report.to_string();
    assert!(
        printed.contains("GET /v1/users/{id}") && printed.contains("total"),
        "{printed}"
    );
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["ledger_summary"]["registrations"], 3);

    let verification = verify(&VerifyConfig::new(&stub.url), &report.ledger)
        .await
        .unwrap();
    assert!(verification.passed(), "{verification}");
}

#[tokio::test]
async fn the_upload_journey_posts_images_without_waiting_for_them() {
    // Uploads that stay pending: a journey that waited for them would post one each.
    let (stub, report) = run_two_users("upload=1", |world| world.stuck_uploads = true).await;

    assert!(
        report.ledger.uploads.len() > 2,
        "{} uploads",
        report.ledger.uploads.len()
    );
    assert_eq!(
        report.journeys.get("upload").copied(),
        Some(report.ledger.uploads.len() as u64)
    );
    let routes: Vec<&str> = report.routes.iter().map(|r| r.route.as_str()).collect();
    assert!(!routes.contains(&"GET /v1/media/{id}"), "{routes:?}");
    let world = stub.world();
    for upload in &report.ledger.uploads {
        assert_eq!(world.media[&upload.media_id].owner, upload.owner);
    }
}

#[tokio::test]
async fn writes_answered_with_errors_are_unknown_and_not_retried_at_once() {
    let (stub, report) = run_two_users("update_bio=1", |world| world.fail_patches = true).await;

    assert!(report.ledger.bios.is_empty());
    let unknown_bios = report
        .ledger
        .unknown
        .iter()
        .filter(|u| u.kind == WriteKind::Bio && u.error == "503")
        .count();
    assert!(unknown_bios >= 2, "{:?}", report.ledger.unknown);
    // Each user holds back for Retry-After (1 s) after a 503: a handful in 1.5 s, no storm.
    let patches = route(&report, "PATCH /v1/users/me");
    assert!(patches.requests <= 6, "{} PATCHes", patches.requests);
    assert_eq!(patches.errors[&503], patches.requests);

    let verification = verify(&VerifyConfig::new(&stub.url), &report.ledger)
        .await
        .unwrap();
    assert!(verification.passed(), "{verification}");
}

#[tokio::test]
async fn new_accounts_wait_for_their_profile_before_their_journeys() {
    let (_stub, report) = run_two_users("update_bio=1", |world| {
        world.profile_delay = Duration::from_millis(400)
    })
    .await;
    // The 404s are on the waiting route; no PATCH reached a profile that did not exist yet.
    let waits = route(&report, "GET /v1/users/me (until created)");
    assert!(waits.errors.get(&404).is_some_and(|n| *n >= 2), "{report}");
    let patches = route(&report, "PATCH /v1/users/me");
    assert!(patches.errors.is_empty(), "{report}");
}

#[tokio::test]
async fn an_open_loop_run_starts_journeys_at_its_rate_and_drops_past_its_bound() {
    let stub = Stub::start(World {
        stuck_uploads: true,
        ..World::default()
    })
    .await;
    let report = run(RunConfig {
        duration: Duration::from_secs(1),
        ..config(
            &stub,
            Load::Rate {
                per_second: 40.0,
                max_in_flight: 5,
            },
            // Uploads never get ready, so each journey polls until the run stops and five
            // of them fill the bound.
            "upload_avatar=1",
        )
    })
    .await
    .unwrap();
    assert!(report.journeys_dropped > 10, "{report}");
    assert!(report.ledger.users.len() <= 5, "{report}");
    assert!(report.ledger.avatars.is_empty());
    assert_eq!(report.load, "rate=40/s");
    // Stopping waits for requests in flight, not for the polls' bound.
    assert!(report.elapsed_seconds < 3.0, "{}", report.elapsed_seconds);
}
