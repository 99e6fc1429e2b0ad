//! The verifier against the stub: passes when every acknowledged write has its effect, fails
//! naming what is missing, waits for effects that come late, and never counts unknown writes.

use std::time::{Duration, Instant};

use platform_loadgen::{Check, Ledger, NewAccount, Outcome, Verification, VerifyConfig, verify};

use crate::stub::{Media, Profile, Stub, World};

/// An account that exists on the stub with `bio`, recorded in the ledger as acknowledged.
fn add_user(world: &mut World, ledger: &mut Ledger, id: &str, bio: &str) {
    let email = format!("{id}@example.com");
    world
        .accounts
        .insert(email.clone(), ("password-1".into(), id.into()));
    world.profiles.insert(
        id.into(),
        Profile {
            email: email.clone(),
            bio: bio.into(),
            avatar: None,
            visible_from: Instant::now(),
        },
    );
    let new = NewAccount {
        email,
        password: "password-1".into(),
        display_name: "x".into(),
        region: "eu".into(),
    };
    let body = format!(r#"{{"user_id":"{id}"}}"#);
    ledger.record_registration(&new, &Outcome::answer(201, &body));
    ledger.record_bio(id, bio, &Outcome::answer(200, "{}"));
}

fn add_media(world: &mut World, ledger: &mut Ledger, owner: &str, id: &str, status: &'static str) {
    world.media.insert(
        id.into(),
        Media {
            owner: owner.into(),
            status,
            error: (status == "failed").then(|| "not an image".into()),
        },
    );
    let body = format!(r#"{{"id":"{id}","status":"pending"}}"#);
    ledger.record_upload(owner, &Outcome::answer(202, &body));
}

/// Verifies `ledger` against the stub, allowing `within` for effects to show.
async fn verify_within(stub: &Stub, ledger: &Ledger, within: Duration) -> Verification {
    let config = VerifyConfig {
        within,
        ..VerifyConfig::new(&stub.url)
    };
    verify(&config, ledger).await.unwrap()
}

/// Asserts how many writes of each check are missing.
fn assert_missing(verification: &Verification, expected: &[(Check, usize)]) {
    for (check, count) in expected {
        assert_eq!(
            verification.missing_count(*check),
            *count,
            "{check:?}: {verification}"
        );
    }
}

/// Two users, one with a ready avatar and one with a failed upload (with a reason).
async fn healthy() -> (Stub, Ledger) {
    let stub = Stub::start(World::default()).await;
    let mut ledger = Ledger::default();
    {
        let mut world = stub.world();
        add_user(&mut world, &mut ledger, "eu_1", "first");
        add_user(&mut world, &mut ledger, "us_2", "second");
        add_media(&mut world, &mut ledger, "eu_1", "m1", "ready");
        add_media(&mut world, &mut ledger, "us_2", "m2", "failed");
        world.profiles.get_mut("eu_1").unwrap().avatar = Some("m1".into());
    }
    ledger.record_avatar("eu_1", "m1", &Outcome::answer(200, "{}"));
    (stub, ledger)
}

#[tokio::test]
async fn verify_passes_when_every_acknowledged_write_has_its_effect() {
    let (stub, ledger) = healthy().await;
    let verification = verify_within(&stub, &ledger, Duration::from_secs(5)).await;
    assert!(verification.passed(), "{verification}");
    assert_eq!(verification.checked[&Check::Profile], 2);
    assert_eq!(verification.checked[&Check::Bio], 2);
    assert_eq!(verification.checked[&Check::Avatar], 1);
    assert_eq!(verification.checked[&Check::Upload], 2);
    assert!(
        verification
            .to_string()
            .contains("OK: every acknowledged write")
    );
}

#[tokio::test]
async fn verify_fails_when_a_profile_is_missing_and_names_it() {
    let (stub, ledger) = healthy().await;
    stub.world().profiles.remove("us_2");
    let started = Instant::now();
    let verification = verify_within(&stub, &ledger, Duration::from_millis(800)).await;
    assert!(!verification.passed());
    assert_eq!(verification.missing.len(), 1, "{verification}");
    let missing = &verification.missing[0];
    assert_eq!(
        (missing.check, missing.user_id.as_str()),
        (Check::Profile, "us_2")
    );
    assert!(missing.detail.contains("404"), "{}", missing.detail);
    // Retried for the time allowed, and not much longer.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(4),
        "{took:?}"
    );
    let printed = verification.to_string();
    assert!(
        printed.contains("LOST: 1") && printed.contains("profiles: 1 missing"),
        "{printed}"
    );
    assert!(printed.contains("us_2"), "{printed}");
}

#[tokio::test]
async fn verify_waits_for_a_profile_that_arrives_late() {
    let (stub, ledger) = healthy().await;
    stub.world().profiles.get_mut("us_2").unwrap().visible_from =
        Instant::now() + Duration::from_millis(700);
    let verification = verify_within(&stub, &ledger, Duration::from_secs(10)).await;
    assert!(verification.passed(), "{verification}");
}

#[tokio::test]
async fn a_stale_bio_is_lost_but_one_from_an_unknown_write_is_accepted() {
    let (stub, mut ledger) = healthy().await;
    // eu_1: the platform still shows an older bio than the last acknowledged one.
    ledger.record_bio("eu_1", "newer", &Outcome::answer(200, "{}"));
    // us_2: shows a bio whose write went unanswered; it may have landed after the last ack.
    ledger.record_bio("us_2", "maybe", &Outcome::Timeout);
    stub.world().profiles.get_mut("us_2").unwrap().bio = "maybe".into();

    let verification = verify_within(&stub, &ledger, Duration::from_millis(300)).await;
    assert_eq!(verification.missing.len(), 1, "{verification}");
    let missing = &verification.missing[0];
    assert_eq!(
        (missing.check, missing.user_id.as_str()),
        (Check::Bio, "eu_1")
    );
    assert!(missing.detail.contains("\"newer\""), "{}", missing.detail);
    assert_eq!(verification.unknown_writes, 1);
}

#[tokio::test]
async fn a_missing_avatar_and_an_unfinished_upload_are_lost() {
    let (stub, mut ledger) = healthy().await;
    {
        let mut world = stub.world();
        world.profiles.get_mut("eu_1").unwrap().avatar = None;
        add_media(&mut world, &mut ledger, "us_2", "m3", "pending");
        add_media(&mut world, &mut ledger, "us_2", "m4", "failed");
        world.media.get_mut("m4").unwrap().error = None;
    }
    let verification = verify_within(&stub, &ledger, Duration::from_millis(300)).await;
    assert_missing(&verification, &[(Check::Avatar, 1), (Check::Upload, 2)]);
    let details: Vec<&str> = verification
        .missing
        .iter()
        .map(|m| m.detail.as_str())
        .collect();
    assert!(details.contains(&"still pending"), "{details:?}");
    assert!(
        details.contains(&"failed without an error reason"),
        "{details:?}"
    );
}

#[tokio::test]
async fn an_account_that_cannot_log_in_is_lost_at_once_without_retrying() {
    let (stub, ledger) = healthy().await;
    stub.world().accounts.remove("us_2@example.com");
    let started = Instant::now();
    let verification = verify_within(&stub, &ledger, Duration::from_secs(20)).await;
    // A 401 is final: retrying wrong logins would only trip the login throttle.
    assert!(started.elapsed() < Duration::from_secs(5));
    // Its upload cannot be checked without logging in, and is not passed either.
    assert_missing(&verification, &[(Check::Login, 1), (Check::Upload, 1)]);
}

#[tokio::test]
async fn unknown_writes_are_never_counted_as_lost() {
    let stub = Stub::start(World::default()).await;
    let mut ledger = Ledger::default();
    let new = NewAccount {
        email: "ghost@example.com".into(),
        password: "password-1".into(),
        display_name: "x".into(),
        region: "eu".into(),
    };
    ledger.record_registration(&new, &Outcome::Timeout);
    ledger.record_upload("eu_9", &Outcome::answer(503, "{}"));
    let verification = verify_within(&stub, &ledger, Duration::from_secs(1)).await;
    assert!(verification.passed(), "{verification}");
    assert_eq!(verification.unknown_writes, 2);
}
