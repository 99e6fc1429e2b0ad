//! Login throttling: guesses are counted before they are checked, a stranger cannot lock the
//! owner out, a spray from one address is capped, a success gives back only its own
//! attempts, and the throttle speaks to Redis only through its script.

use std::time::Duration;

use platform_proto::auth::v1::{LoginRequest, RegisterRequest};
use tonic::{Code, Status};
use tonic_types::StatusExt as _;

use crate::helpers::{TestAuth, spawn_auth, spawn_auth_with};
use crate::redis_recorder::RedisRecorder;

const PASSWORD: &str = "correct horse battery";
const WRONG: &str = "wrong password!";

async fn register(auth: &TestAuth) -> String {
    let email = format!("{}@example.com", platform_testkit::unique("owner"));
    let request = RegisterRequest {
        email: email.clone(),
        password: PASSWORD.into(),
        display_name: "Alice".into(),
        region: "eu".into(),
    };
    auth.client().register(request).await.unwrap();
    email
}

async fn login(auth: &TestAuth, email: &str, password: &str, from: &str) -> Result<(), Status> {
    let request = LoginRequest {
        email: email.into(),
        password: password.into(),
        client_address: from.into(),
    };
    auth.client().login(request).await.map(drop)
}

/// `n` logins as `email` with a wrong password from `from`, each refused as unauthenticated.
async fn refused_logins(auth: &TestAuth, email: &str, from: &str, n: usize) {
    for _ in 0..n {
        let refused = login(auth, email, WRONG, from).await;
        assert_eq!(refused.unwrap_err().code(), Code::Unauthenticated);
    }
}

fn retry_after(status: &Status) -> Duration {
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    status
        .get_error_details()
        .retry_info()
        .and_then(|info| info.retry_delay)
        .expect("a refusal says when to retry")
}

/// Counts the answers of `logins` run all at once: (401s, 429s).
async fn in_parallel(
    auth: &TestAuth,
    logins: impl IntoIterator<Item = (String, &'static str, String)>,
) -> (usize, usize) {
    let tasks: Vec<_> = logins
        .into_iter()
        .map(|(email, password, from)| {
            let mut client = auth.client();
            tokio::spawn(async move {
                let request = LoginRequest {
                    email,
                    password: password.into(),
                    client_address: from,
                };
                client.login(request).await.map(drop)
            })
        })
        .collect();
    let (mut unauthenticated, mut throttled) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Err(s) if s.code() == Code::Unauthenticated => unauthenticated += 1,
            Err(s) if s.code() == Code::ResourceExhausted => throttled += 1,
            other => panic!("a wrong guess is 401 or 429: {other:?}"),
        }
    }
    (unauthenticated, throttled)
}

#[tokio::test]
async fn fifty_parallel_wrong_guesses_get_only_five_password_checks() {
    let auth = spawn_auth().await;
    let email = register(&auth).await;
    // Every spelling of the email is the same account, for the throttle too.
    let spellings = [email.clone(), email.to_uppercase(), format!("  {email} ")];
    let guesses = (0..50).map(|i| {
        let spelling = spellings[i % spellings.len()].clone();
        (spelling, WRONG, "198.51.100.7".to_owned())
    });
    let (checked, refused) = in_parallel(&auth, guesses).await;
    assert_eq!(
        (checked, refused),
        (5, 45),
        "AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS (5) checks, however parallel"
    );
}

#[tokio::test]
async fn parallel_logins_with_the_right_password_all_get_through() {
    let auth = spawn_auth().await;
    let email = register(&auth).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let email = email.clone();
            let mut client = auth.client();
            tokio::spawn(async move {
                let request = LoginRequest {
                    email,
                    password: PASSWORD.into(),
                    client_address: "198.51.100.8".into(),
                };
                client.login(request).await.map(drop)
            })
        })
        .collect();
    for task in tasks {
        task.await
            .unwrap()
            .expect("attempts in flight make others wait, not fail");
    }
}

#[tokio::test]
async fn a_stranger_out_of_guesses_does_not_lock_the_owner_out() {
    let auth = spawn_auth().await;
    let email = register(&auth).await;
    let refusal = loop {
        match login(&auth, &email, WRONG, "203.0.113.1").await {
            Err(s) if s.code() == Code::Unauthenticated => continue,
            Err(s) => break s,
            Ok(()) => panic!("a wrong password logged in"),
        }
    };
    assert!(
        retry_after(&refusal) > Duration::from_secs(60),
        "the stranger waits out the window"
    );
    login(&auth, &email, PASSWORD, "192.0.2.50")
        .await
        .expect("the owner, from elsewhere, is not locked out");
}

#[tokio::test]
async fn strangers_from_many_addresses_slow_the_owner_down_by_an_interval_at_most() {
    let interval = Duration::from_secs(1);
    let auth = spawn_auth_with(|settings| {
        settings.throttle.account_slowdown_burst = 2;
        settings.throttle.account_slowdown_interval = interval;
    })
    .await;
    let email = register(&auth).await;
    login(&auth, &email, PASSWORD, "192.0.2.10").await.unwrap(); // her usual address
    // Six strangers, one guess each: together more than any per-account lock would allow.
    let mut slowed = 0;
    for stranger in 1..=6 {
        match login(&auth, &email, WRONG, &format!("203.0.113.{stranger}")).await {
            Err(s) if s.code() == Code::Unauthenticated => {}
            Err(s) => {
                assert!(retry_after(&s) <= interval, "{s:?}");
                slowed += 1;
            }
            Ok(()) => panic!("a wrong password logged in"),
        }
    }
    assert!(slowed > 0, "past the burst, the account is slowed down");
    login(&auth, &email, PASSWORD, "192.0.2.10")
        .await
        .expect("an address she logged in from skips the slow-down");
    // From a new address she may be asked to wait, never longer than the interval.
    for _ in 0..3 {
        match login(&auth, &email, PASSWORD, "198.51.100.99").await {
            Ok(()) => return,
            Err(s) => {
                let wait = retry_after(&s);
                assert!(
                    wait <= interval,
                    "the owner waits an interval at most: {wait:?}"
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
    panic!("the owner did not get in within three intervals");
}

#[tokio::test]
async fn one_address_spraying_many_accounts_is_capped_even_in_parallel() {
    let auth = spawn_auth_with(|settings| settings.throttle.max_failures_per_address = 10).await;
    let sprayed = (0..30).map(|i| {
        let email = format!("{}-{i}@example.com", platform_testkit::unique("sprayed"));
        (email, WRONG, "198.51.100.66".to_owned())
    });
    let (checked, refused) = in_parallel(&auth, sprayed).await;
    assert_eq!(
        (checked, refused),
        (10, 20),
        "the address's cap, however parallel"
    );
    let elsewhere = login(&auth, "someone@example.com", WRONG, "198.51.100.67").await;
    assert_eq!(
        elsewhere.unwrap_err().code(),
        Code::Unauthenticated,
        "other addresses go on"
    );
}

#[tokio::test]
async fn the_owners_success_does_not_give_a_stranger_fresh_guesses() {
    let auth = spawn_auth().await;
    let email = register(&auth).await;
    refused_logins(&auth, &email, "203.0.113.9", 4).await;
    login(&auth, &email, PASSWORD, "192.0.2.20").await.unwrap();
    let fifth = login(&auth, &email, WRONG, "203.0.113.9").await;
    assert_eq!(fifth.unwrap_err().code(), Code::Unauthenticated);
    let sixth = login(&auth, &email, WRONG, "203.0.113.9")
        .await
        .unwrap_err();
    assert!(
        retry_after(&sixth) > Duration::from_secs(60),
        "still 5 per window"
    );
}

#[tokio::test]
async fn a_success_gives_back_its_own_attempts_but_not_a_sprays_failures() {
    let auth = spawn_auth_with(|settings| {
        settings.throttle.max_failures_per_address = 8;
        settings.throttle.account_slowdown_burst = 3;
        settings.throttle.account_slowdown_interval = Duration::from_secs(3600);
    })
    .await;
    let email = register(&auth).await;
    // More successes from new addresses than the slow-down's burst, more from one address
    // than its cap: each gives its attempt back.
    for new in 1..=5 {
        login(&auth, &email, PASSWORD, &format!("192.0.2.{new}"))
            .await
            .unwrap();
    }
    for _ in 0..10 {
        login(&auth, &email, PASSWORD, "198.51.100.30")
            .await
            .unwrap();
    }
    // Her own typos from an address are forgiven by her success there ...
    refused_logins(&auth, &email, "198.51.100.30", 4).await;
    login(&auth, &email, PASSWORD, "198.51.100.30")
        .await
        .unwrap();
    refused_logins(&auth, &email, "198.51.100.30", 4).await;
    // ... but the address's 8 failures stay counted: a success does not reset a spray.
    let spray = login(&auth, "another@example.com", WRONG, "198.51.100.30").await;
    assert!(retry_after(&spray.unwrap_err()) > Duration::from_secs(60));
}

#[tokio::test]
async fn the_throttle_sends_redis_only_evalsha_and_script_load_after_noscript() {
    let recorder = RedisRecorder::start().await;
    let url = recorder.url();
    let auth = spawn_auth_with(|settings| settings.redis.url = url.into()).await;
    let email = register(&auth).await;
    let wrong = login(&auth, &email, WRONG, "198.51.100.40").await;
    assert_eq!(wrong.unwrap_err().code(), Code::Unauthenticated);
    login(&auth, &email, PASSWORD, "198.51.100.40")
        .await
        .unwrap();
    login(&auth, &email, PASSWORD, "198.51.100.41")
        .await
        .unwrap();

    let commands = recorder.commands();
    // The client library's, not the throttle's: redis-rs sets a connection up (CLIENT SETINFO,
    // HELLO, AUTH, SELECT), deadpool-redis recycles it from the pool (UNWATCH, PING).
    let connection = ["CLIENT", "HELLO", "AUTH", "SELECT", "UNWATCH", "PING"];
    let throttle: Vec<_> = commands
        .iter()
        .filter(|name| !connection.contains(&name.as_str()))
        .collect();
    // redis::Script answers the forced NOSCRIPT with SCRIPT LOAD and the same EVALSHA again;
    // after that Redis has the script cached, and every call is one EVALSHA.
    let loads = throttle.iter().filter(|name| **name == "SCRIPT").count();
    assert_eq!(
        loads, 1,
        "SCRIPT LOAD once, after the NOSCRIPT: {commands:?}"
    );
    assert_eq!(
        throttle.get(1).map(|name| name.as_str()),
        Some("SCRIPT"),
        "{commands:?}"
    );
    assert!(
        throttle
            .iter()
            .all(|name| *name == "EVALSHA" || *name == "SCRIPT"),
        "{commands:?}"
    );
    let evalshas = throttle.len() - loads;
    assert!(
        evalshas >= 7,
        "each login takes and settles, and the NOSCRIPT call is sent again: {commands:?}"
    );
}

#[tokio::test]
async fn a_login_fails_closed_when_redis_does_not_answer() {
    let silent = platform_testkit::black_hole().await;
    let auth = spawn_auth_with(|settings| {
        settings.redis.url = format!("redis://{silent}").into();
        settings.redis.connect_timeout = Duration::from_millis(300);
        settings.redis.command_timeout = Duration::from_millis(300);
    })
    .await;
    let email = register(&auth).await;
    let status = login(&auth, &email, PASSWORD, "198.51.100.50")
        .await
        .unwrap_err();
    assert!(
        matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded),
        "no throttle, no login: {status:?}"
    );
}
