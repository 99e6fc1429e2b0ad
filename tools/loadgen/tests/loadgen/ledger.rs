//! The ledger: only acknowledged (2xx) writes are recorded; the rest are unknown, apart.

use platform_loadgen::{Ledger, NewAccount, Outcome, WriteKind};

fn account(email: &str) -> NewAccount {
    NewAccount {
        email: email.into(),
        password: "password-1".into(),
        display_name: "A".into(),
        region: "eu".into(),
    }
}

#[test]
fn only_acknowledged_writes_are_recorded_and_the_rest_are_unknown() {
    let mut ledger = Ledger::default();
    let ok = |body: &str| Outcome::answer(200, body);

    let a = ledger.record_registration(
        &account("a@x.io"),
        &Outcome::answer(201, r#"{"user_id":"eu_1"}"#),
    );
    assert_eq!(a.unwrap().user_id, "eu_1");
    assert!(
        ledger
            .record_registration(&account("b@x.io"), &Outcome::answer(409, "{}"))
            .is_none()
    );
    assert!(
        ledger
            .record_registration(&account("c@x.io"), &Outcome::Timeout)
            .is_none()
    );
    // Acknowledged, but what it created cannot be read: unknown, not lost.
    assert!(
        ledger
            .record_registration(&account("d@x.io"), &ok("not json"))
            .is_none()
    );

    ledger.record_bio("eu_1", "one", &ok("{}"));
    ledger.record_bio("eu_1", "two", &Outcome::answer(503, "{}"));
    ledger.record_bio("eu_1", "three", &ok("{}"));
    ledger.record_bio("eu_1", "four", &Outcome::Transport("reset".into()));

    assert_eq!(
        ledger
            .record_upload(
                "eu_1",
                &Outcome::answer(202, r#"{"id":"m1","status":"pending"}"#)
            )
            .as_deref(),
        Some("m1")
    );
    assert!(ledger.record_upload("eu_1", &Outcome::Timeout).is_none());
    ledger.record_avatar("eu_1", "m1", &ok("{}"));
    ledger.record_avatar("eu_1", "m2", &Outcome::answer(409, "{}"));

    assert_eq!(ledger.users.len(), 1);
    assert_eq!(ledger.users[0].email, "a@x.io");
    assert_eq!(ledger.users[0].password, "password-1");
    assert_eq!(ledger.bios["eu_1"], "three", "the last acknowledged bio");
    assert_eq!(ledger.uploads.len(), 1);
    assert_eq!(
        (
            ledger.uploads[0].media_id.as_str(),
            ledger.uploads[0].owner.as_str()
        ),
        ("m1", "eu_1")
    );
    assert_eq!(ledger.avatars["eu_1"], "m1");

    let unknown: Vec<(WriteKind, Option<&str>, &str)> = ledger
        .unknown
        .iter()
        .map(|u| (u.kind, u.value.as_deref(), u.error.as_str()))
        .collect();
    assert_eq!(
        unknown,
        [
            (WriteKind::Registration, Some("b@x.io"), "409"),
            (WriteKind::Registration, Some("c@x.io"), "timeout"),
            (
                WriteKind::Registration,
                Some("d@x.io"),
                "unreadable 200 body"
            ),
            (WriteKind::Bio, Some("two"), "503"),
            (WriteKind::Bio, Some("four"), "transport error: reset"),
            (WriteKind::Upload, None, "timeout"),
            (WriteKind::Avatar, Some("m2"), "409"),
        ]
    );
    assert_eq!(
        ledger.unknown_values(WriteKind::Bio, "eu_1"),
        ["two", "four"]
    );
    let summary = ledger.summary();
    assert_eq!(
        (
            summary.registrations,
            summary.bios,
            summary.uploads,
            summary.avatars,
            summary.unknown
        ),
        (1, 1, 1, 1, 7)
    );
}

#[test]
fn a_saved_ledger_loads_back_the_same() {
    let mut ledger = Ledger::default();
    ledger.record_registration(
        &account("a@x.io"),
        &Outcome::answer(201, r#"{"user_id":"us_7"}"#),
    );
    ledger.record_bio("us_7", "hello \"quoted\"", &Outcome::answer(200, "{}"));
    ledger.record_bio("us_7", "lost?", &Outcome::Timeout);
    let path = std::env::temp_dir().join(format!("loadgen-ledger-{}.json", std::process::id()));
    ledger.save(&path).unwrap();
    let loaded = Ledger::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded, ledger);
}

#[test]
fn a_file_that_is_not_a_ledger_is_refused_by_name() {
    let path = std::env::temp_dir().join(format!("loadgen-not-ledger-{}.json", std::process::id()));
    std::fs::write(&path, "[1, 2]").unwrap();
    let error = Ledger::load(&path).unwrap_err().to_string();
    std::fs::remove_file(&path).unwrap();
    assert!(error.contains("is not a ledger"), "{error}");
}
